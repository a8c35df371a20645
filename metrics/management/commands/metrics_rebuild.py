"""Rebuild the metrics rollups from the MRR ledger, or prove they agree with it.

``metrics_rebuild`` rebuilds every period, its churn reasons and the cohort cells (as the nightly job does), and the
CS operations' tallies (``metrics.operations_tallies``, as the beat does).
``--check`` changes nothing: it computes every period's totals and churn reasons, and every cohort cell, in
Python straight from the ledger rows (``metrics.facts.LedgerHistory``) and compares them, slice by slice,
with the stored ones, and checks MRR(end) = MRR(start) + movements in each; it exits with an error when
anything differs. It then checks the CS operations' tallies the same way: every month they hold, for the workspace
and each segment, service model and plan, against the live count of the journey's rows.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from metrics import operations_tallies, rollups
from metrics.services import operations_tallies_rebuild, rollups_rebuild_all

SHOWN = 20


class Command(BaseCommand):
    help = "Rebuild the metrics rollups from the MRR ledger, or check them (--check)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Compare the rollups with the ledger; write nothing.")

    def handle(self, *args, check: bool = False, **options) -> None:
        started = time.monotonic()
        if not check:
            built = rollups_rebuild_all()
            self.stdout.write(f"Rebuilt {built} periods in {time.monotonic() - started:.1f} s.")
            tallies = operations_tallies_rebuild()
            self.stdout.write(
                f"Counted the CS operations' closed months: {tallies['rows']} rows in {tallies['seconds']:.1f} s."
            )
            return
        report = rollups.check()
        ops = operations_tallies.check()
        for line in ops.problems[:SHOWN]:
            self.stdout.write(line)
        for line in report.differences[:SHOWN]:
            self.stdout.write(line)
        if len(report.differences) > SHOWN:
            self.stdout.write(f"… and {len(report.differences) - SHOWN} more.")
        summary = f"{report.periods} periods, {report.slices} slices checked in {time.monotonic() - started:.1f} s"
        ops_summary = f"{ops.months} months of CS operations, {ops.slices} slices"
        if not report.ok:
            raise CommandError(f"The rollups differ from the ledger in {len(report.differences)} slices ({summary}).")
        if ops.problems:
            raise CommandError(f"The CS operations' tallies differ from the live count ({ops_summary}).")
        self.stdout.write(f"The rollups equal the ledger: {summary}.")
        self.stdout.write(f"The CS operations' tallies equal the live count: {ops_summary}.")
