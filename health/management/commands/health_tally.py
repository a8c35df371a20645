"""python manage.py health_tally [--check]: rebuild the per-day band tally of the scores, or prove it equals them.

The database keeps the tally as scores are written (``health.tally``); ``--check`` changes nothing and exits with
an error when any day's band differs from a count of the scores.
"""

from core.tally_command import TallyCommand
from health import tally


class Command(TallyCommand):
    help = "Rebuild the health scores' per-day band tally, or check it against the scores (--check)."
    tally = tally
    cells = "days × bands"
    counted = "the scores"
