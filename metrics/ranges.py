"""A custom range of months: its rollups are built when it is asked for.

The rollups are stored per range of months (a customer counts with its owner at the start of the range), and the
refresh keeps the standard ranges (each month, quarter, year and trailing twelve months). A range a person picks
is built from the ledger the first time it is asked for, with the range just before it (the comparison): one
set-based statement each, and kept, so the next request (a drill-down, the CSV, a colleague opening the same link)
reads it as it reads any other. A change to the ledger forgets the kept ranges it touches (those ending in or after
its month, ``rollups.forget_custom``, when the refresh runs), so they are built again, exact, when next asked for;
the nightly rebuild removes them all (they are not among the standard ranges).
"""

from metrics import rollups
from metrics.periods import Period, PeriodKind
from metrics.selectors import current_month

STANDARD = (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR, PeriodKind.TRAILING)


def is_standard(period: Period) -> bool:
    """Whether the refresh keeps ``period``'s months as one of its ranges."""
    current = current_month()
    if period.start == period.end:
        return True
    for kind in STANDARD:
        standard = Period.of(kind, period.end, current=current)
        if (standard.start, standard.end) == (period.start, period.end):
            return True
    return False


def rollups_for(period: Period) -> None:
    """Build the rollups of a custom range and of the range before it, unless they are kept already (the refresh
    keeps the standard ranges; a custom one built earlier is kept until the ledger changes under it)."""
    if period.kind != PeriodKind.CUSTOM:
        return
    wanted = [p for p in (period, period.previous()) if not is_standard(p) and not rollups.is_built(p)]
    if wanted:
        rollups.build(wanted)
