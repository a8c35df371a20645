"""python manage.py first_value_tally [--check]: rebuild the first values reached per day and ISM, or prove they
equal the milestones.

The database keeps the tally as milestones and customers are written (``portfolio.tally``); ``--check`` changes
nothing and exits with an error when any day and ISM differs from a count of the first values reached.
"""

from core.tally_command import TallyCommand
from portfolio import tally


class Command(TallyCommand):
    help = "Rebuild the first values tallied per day and ISM, or check them against the milestones (--check)."
    tally = tally
    cells = "days × ISMs"
    counted = "the milestones"
