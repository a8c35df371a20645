"""Rebuild the metrics rollups from the MRR ledger, or prove they agree with it.

``metrics_rebuild`` rebuilds every period, its churn reasons and the cohort cells (as the nightly job does).
``--check`` changes nothing: it computes every period's totals and churn reasons, and every cohort cell, in
Python straight from the ledger rows (``metrics.facts.LedgerHistory``) and compares them, slice by slice,
with the stored ones, and checks MRR(end) = MRR(start) + movements in each; it exits with an error when
anything differs.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from metrics import rollups
from metrics.services import rollups_rebuild_all

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
            return
        report = rollups.check()
        for line in report.differences[:SHOWN]:
            self.stdout.write(line)
        if len(report.differences) > SHOWN:
            self.stdout.write(f"… and {len(report.differences) - SHOWN} more.")
        summary = f"{report.periods} periods, {report.slices} slices checked in {time.monotonic() - started:.1f} s"
        if not report.ok:
            raise CommandError(f"The rollups differ from the ledger in {len(report.differences)} slices ({summary}).")
        self.stdout.write(f"The rollups equal the ledger: {summary}.")
