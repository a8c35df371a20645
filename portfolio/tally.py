"""The first values reached per day and ISM (``portfolio.models.FirstValueTally``): checked against the milestones,
or rebuilt from them.

The database keeps the tally as milestones and customers are written (triggers, migration 0028): nothing in Leme
writes it. :func:`check` proves it equals a live count of the first values reached by day and ISM; :func:`rebuild`
replaces it from them (after a restore that skipped the triggers, or a ``TRUNCATE``, which fires none), the
milestones and customers locked against writes meanwhile so that none is counted twice or missed.
"""

from datetime import date

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce

from core.tally import TallyCheck, compare, replace
from portfolio.models import FirstValueTally, Milestone, MilestoneKind

Cell = tuple[date, int]  # (day, ISM id or 0)
Counts = tuple[int, int, int]  # (reached, on time, days from start to first value, summed)


def kept() -> bool:
    """Whether the database keeps the tally: PostgreSQL, where migration 0028 made its triggers."""
    return connection.vendor == "postgresql"


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
    return compare(
        live_counts(),
        stored_counts(),
        empty=(0, 0, 0),
        describe=lambda cell, want, have: (
            f"{cell[0]} ISM {cell[1] or 'none'}: {want} reached, on time, days; tally {have}"
        ),
    )


@transaction.atomic
def rebuild() -> int:
    """Replace the tally by a count of the first values reached; returns the number of (day, ISM) cells written.
    Writers of milestones and customers wait until it is done (readers go on)."""
    return replace(
        FirstValueTally,
        lambda: [
            FirstValueTally(day=day, ism=ism, reached=n, on_time=on_time, days=days)
            for (day, ism), (n, on_time, days) in sorted(live_counts().items())
        ],
        lock=["portfolio_milestone", "portfolio_customer"],
    )
