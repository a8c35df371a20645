"""python manage.py first_value_tally [--check]: rebuild the first values reached per day and ISM, or prove they
equal the milestones.

The database keeps the tally as milestones and customers are written (``portfolio.tally``); ``--check`` changes
nothing and exits with an error when any day and ISM differs from a count of the first values reached.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from portfolio import tally

SHOWN = 20


class Command(BaseCommand):
    help = "Rebuild the first values tallied per day and ISM, or check them against the milestones (--check)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Compare the tally with the milestones; write nothing."
        )

    def handle(self, *args, check: bool = False, **options) -> None:
        started = time.monotonic()
        if not check:
            cells = tally.rebuild()
            self.stdout.write(f"Rebuilt the tally: {cells} days × ISMs in {time.monotonic() - started:.1f} s.")
            return
        report = tally.check()
        for line in report.differences[:SHOWN]:
            self.stdout.write(line)
        if len(report.differences) > SHOWN:
            self.stdout.write(f"… and {len(report.differences) - SHOWN} more.")
        summary = f"{report.cells} days × ISMs checked in {time.monotonic() - started:.1f} s"
        if not report.ok:
            raise CommandError(f"The tally differs from the milestones in {len(report.differences)} cells ({summary}).")
        self.stdout.write(f"The tally equals the milestones: {summary}.")
