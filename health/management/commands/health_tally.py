"""python manage.py health_tally [--check]: rebuild the per-day band tally of the scores, or prove it equals them.

The database keeps the tally as scores are written (``health.tally``); ``--check`` changes nothing and exits with
an error when any day's band differs from a count of the scores.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from health import tally

SHOWN = 20


class Command(BaseCommand):
    help = "Rebuild the health scores' per-day band tally, or check it against the scores (--check)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Compare the tally with the scores; write nothing.")

    def handle(self, *args, check: bool = False, **options) -> None:
        started = time.monotonic()
        if not check:
            cells = tally.rebuild()
            self.stdout.write(f"Rebuilt the tally: {cells} days × bands in {time.monotonic() - started:.1f} s.")
            return
        report = tally.check()
        for line in report.differences[:SHOWN]:
            self.stdout.write(line)
        if len(report.differences) > SHOWN:
            self.stdout.write(f"… and {len(report.differences) - SHOWN} more.")
        summary = f"{report.cells} days × bands checked in {time.monotonic() - started:.1f} s"
        if not report.ok:
            raise CommandError(f"The tally differs from the scores in {len(report.differences)} cells ({summary}).")
        self.stdout.write(f"The tally equals the scores: {summary}.")
