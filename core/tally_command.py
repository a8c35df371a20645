"""The command shape of a tally the database keeps (``health_tally``, ``first_value_tally``, ``book_tally``): rebuild
it, or prove it equals a count of the rows it tallies (``--check``: writes nothing, exits with an error naming the
first differences)."""

import time
from types import ModuleType

from django.core.management.base import BaseCommand, CommandError

SHOWN = 20


class TallyCommand(BaseCommand):
    """Subclasses name the tally's module (``rebuild() -> cells``, ``check() -> report`` with ``cells``,
    ``differences`` and ``ok``), what a cell is (``days × bands``) and what the tally counts (``the scores``)."""

    tally: ModuleType
    cells: str
    counted: str

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check", action="store_true", help=f"Compare the tally with {self.counted}; write nothing."
        )

    def handle(self, *args, check: bool = False, **options) -> None:
        started = time.monotonic()
        if not check:
            cells = self.tally.rebuild()
            self.stdout.write(f"Rebuilt the tally: {cells} {self.cells} in {time.monotonic() - started:.1f} s.")
            return
        report = self.tally.check()
        for line in report.differences[:SHOWN]:
            self.stdout.write(line)
        if len(report.differences) > SHOWN:
            self.stdout.write(f"… and {len(report.differences) - SHOWN} more.")
        summary = f"{report.cells} {self.cells} checked in {time.monotonic() - started:.1f} s"
        if not report.ok:
            raise CommandError(f"The tally differs from {self.counted} in {len(report.differences)} cells ({summary}).")
        self.stdout.write(f"The tally equals {self.counted}: {summary}.")
