"""A custom range of months: its rollups are built when it is asked for.

The rollups are stored per range of months (a customer counts with its owner at the start of the range), and the
refresh keeps the standard ranges (each month, quarter, year and trailing twelve months). A range a person picks
is built from the ledger on each request, with the range just before it (the comparison): always exact, one
set-based statement each. The nightly rebuild removes them again (they are not among the standard ranges).
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
    """Build the rollups of a custom range and of the range before it, unless the refresh keeps them already."""
    if period.kind != PeriodKind.CUSTOM:
        return
    wanted = [p for p in (period, period.previous()) if not is_standard(p)]
    if wanted:
        rollups.build(wanted)
