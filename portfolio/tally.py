"""The first values reached per day and ISM (``portfolio.models.FirstValueTally``): checked against the milestones,
or rebuilt from them.

The database keeps the tally as milestones and customers are written (triggers, migration 0028): nothing in Leme
writes it. :func:`check` proves it equals a live count of the first values reached by day and ISM; :func:`rebuild`
replaces it from them (after a restore that skipped the triggers, or a ``TRUNCATE``, which fires none), the
milestones and customers locked against writes meanwhile so that none is counted twice or missed.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce

from portfolio.models import FirstValueTally, Milestone, MilestoneKind

Cell = tuple[date, int]  # (day, ISM id or 0)
Counts = tuple[int, int, int]  # (reached, on time, days from start to first value, summed)


def kept() -> bool:
    """Whether the database keeps the tally: PostgreSQL, where migration 0028 made its triggers."""
    return connection.vendor == "postgresql"


@dataclass
class TallyCheck:
    cells: int  # (day, ISM) pairs compared
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def live_counts() -> dict[Cell, Counts]:
    """Every day's first values reached by ISM, counted from the milestones: one query."""
    rows = (
        Milestone.objects.filter(
            kind=MilestoneKind.FIRST_VALUE, achieved_on__isnull=False, customer__start_date__isnull=False
        )
        .annotate(ism=Coalesce("customer__implementation_manager_id", 0))
        .values("achieved_on", "ism")
        .annotate(
            n=Count("pk"),
            on_time=Count("pk", filter=Q(achieved_on__lte=F("target_date"))),
            days=Sum(ExpressionWrapper(F("achieved_on") - F("customer__start_date"), output_field=DurationField())),
        )
        .order_by()
    )
    return {(r["achieved_on"], r["ism"]): (r["n"], r["on_time"], r["days"].days) for r in rows}


def stored_counts() -> dict[Cell, Counts]:
    """The tally, its empty cells left out (a day whose first values were all moved keeps rows at 0)."""
    rows = FirstValueTally.objects.exclude(reached=0, on_time=0, days=0)
    return {(r.day, r.ism): (r.reached, r.on_time, r.days) for r in rows}


def check() -> TallyCheck:
    """Compare the tally with the milestones, cell by cell; writes nothing."""
    live, stored = live_counts(), stored_counts()
    cells = sorted(live.keys() | stored.keys())
    report = TallyCheck(cells=len(cells))
    for cell in cells:
        want, have = live.get(cell, (0, 0, 0)), stored.get(cell, (0, 0, 0))
        if want != have:
            report.differences.append(f"{cell[0]} ISM {cell[1] or 'none'}: {want} reached, on time, days; tally {have}")
    return report


@transaction.atomic
def rebuild() -> int:
    """Replace the tally by a count of the first values reached; returns the number of (day, ISM) cells written."""
    if kept():
        with connection.cursor() as cursor:
            # Writers of milestones and customers wait until the tally is rebuilt (readers go on).
            cursor.execute("LOCK TABLE portfolio_milestone, portfolio_customer IN SHARE MODE")
    FirstValueTally.objects.all().delete()
    cells = [
        FirstValueTally(day=day, ism=ism, reached=n, on_time=on_time, days=days)
        for (day, ism), (n, on_time, days) in sorted(live_counts().items())
    ]
    FirstValueTally.objects.bulk_create(cells)
    return len(cells)
