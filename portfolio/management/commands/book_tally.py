"""python manage.py book_tally [--check]: rebuild the customers and MRR tallied per CSM, stage, service model,
segment and band, or prove they equal the customers.

The database keeps the tally as customers are written (``portfolio.book_tally``); ``--check`` changes nothing and
exits with an error when any cell differs from a count of the customers.
"""

from core.tally_command import TallyCommand
from portfolio import book_tally


class Command(TallyCommand):
    help = "Rebuild the customer book's tally per CSM, stage, service model, segment and band, or check it (--check)."
    tally = book_tally
    cells = "cells (CSM × stage × service model × segment × band)"
    counted = "the customers"
