"""The MRR ledger, computed from subscriptions.

DOMAIN.md's convention: compare each customer's month-end MRR with the previous month's, and classify
the difference, in this order: previous 0 and never paid → new; previous 0 and paid before →
reactivation; current 0 → churn; up → expansion; down → contraction. ``MrrMovement`` stores one row per
customer and month whose month-end MRR differs; ``sync_customer`` rewrites a customer's rows after any
subscription change, and ``mrr_recompute`` proves the stored ledger equals the computed one.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from core import clock
from portfolio.models import Customer, MovementKind, MrrMovement, OwnershipPeriod, Subscription


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def months_between(first: date, last: date) -> list[date]:
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def mrr_on(subscriptions: Iterable[Subscription], day: date) -> int:
    """A customer's MRR on ``day``: the monthly value of the subscriptions in force that day."""
    return sum(s.monthly_cents for s in subscriptions if s.runs_on(day))


def classify(previous: int, current: int, paid_before: bool) -> str | None:
    if previous == current:
        return None
    if previous == 0:
        return MovementKind.REACTIVATION if paid_before else MovementKind.NEW
    if current == 0:
        return MovementKind.CHURN
    return MovementKind.EXPANSION if current > previous else MovementKind.CONTRACTION


@dataclass(frozen=True)
class ComputedMovement:
    month: date
    kind: str
    amount_cents: int
    mrr_start_cents: int
    mrr_end_cents: int


def compute_movements(subscriptions: list[Subscription], *, until: date) -> list[ComputedMovement]:
    """The movements a customer's subscriptions imply, month by month up to ``until``'s month."""
    if not subscriptions:
        return []
    first = min(s.start_date for s in subscriptions)
    movements: list[ComputedMovement] = []
    previous, paid_before = 0, False
    for month in months_between(first, until):
        current = mrr_on(subscriptions, month_end(month))
        kind = classify(previous, current, paid_before)
        if kind is not None:
            movements.append(ComputedMovement(month, kind, abs(current - previous), previous, current))
        paid_before = paid_before or current > 0
        previous = current
    return movements


def owner_at(customer: Customer, periods: list[OwnershipPeriod], day: date) -> int | None:
    """Who owned the customer on ``day``, from its ownership periods (ordered by start).

    Before the first period (history imported or backdated before the customer was created in Leme) the
    first known owner is the best answer; the current owner would rewrite history after a reassignment.
    """
    for period in periods:
        started = timezone.localdate(period.started_at)
        ended = timezone.localdate(period.ended_at) if period.ended_at else None
        if started <= day and (ended is None or ended > day):
            return period.owner_id
    if periods and day < timezone.localdate(periods[0].started_at):
        return periods[0].owner_id
    return customer.owner_id


def movement_rows(
    customer: Customer, movements: Iterable[ComputedMovement], periods: list[OwnershipPeriod]
) -> list[MrrMovement]:
    """Unsaved ledger rows for ``movements``, sliced by the owner at the start of each month and the
    customer's segment, plan and service model."""
    return [
        MrrMovement(
            customer=customer,
            month=m.month,
            kind=m.kind,
            amount_cents=m.amount_cents,
            mrr_start_cents=m.mrr_start_cents,
            mrr_end_cents=m.mrr_end_cents,
            owner_id=owner_at(customer, periods, m.month),
            segment=customer.segment,
            plan_tier=customer.plan_tier,
            service_model=customer.service_model,
        )
        for m in movements
    ]


def same_movement(row: MrrMovement, computed: ComputedMovement) -> bool:
    return (row.kind, row.amount_cents, row.mrr_start_cents, row.mrr_end_cents) == (
        computed.kind,
        computed.amount_cents,
        computed.mrr_start_cents,
        computed.mrr_end_cents,
    )


def sync_customer(customer: Customer, *, today: date | None = None) -> None:
    """Rewrite the customer's ledger rows that differ from what its subscriptions imply, and its MRR.

    Reads subscriptions, rows and ownership from the database, never from a prefetch cache: a caller
    holding a customer loaded with ``prefetch_related("subscriptions")`` (the customer page does) would
    otherwise sync against the subscriptions as they were before the change being recorded.
    """
    today = today or clock.today()
    subscriptions = list(Subscription.objects.filter(customer=customer))
    wanted = {m.month: m for m in compute_movements(subscriptions, until=today)}
    existing = {m.month: m for m in MrrMovement.objects.filter(customer=customer)}
    stale = [row.pk for month, row in existing.items() if month not in wanted or not same_movement(row, wanted[month])]
    if stale:
        MrrMovement.objects.filter(pk__in=stale).delete()
    missing = [m for month, m in wanted.items() if month not in existing or existing[month].pk in stale]
    if missing:
        periods = list(OwnershipPeriod.objects.filter(customer=customer).order_by("started_at", "pk"))
        MrrMovement.objects.bulk_create(movement_rows(customer, missing, periods))
    # Compared in the database, not with this instance: the caller's copy may be stale.
    customer.mrr_cents = mrr_on(subscriptions, today)
    Customer.objects.filter(pk=customer.pk).exclude(mrr_cents=customer.mrr_cents).update(mrr_cents=customer.mrr_cents)
