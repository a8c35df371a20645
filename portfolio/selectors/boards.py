"""The team boards: onboarding (customers on their way to first value, and each ISM's pace) and UTI
(customers in their recovery month, and how UTI has worked)."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

from django.core.paginator import Page, Paginator
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Prefetch, Q
from django.utils import timezone

from accounts.models import User
from portfolio.ledger import month_start
from portfolio.models import Customer, MilestoneKind, MovementKind, MrrMovement, Stage, UtiExit, UtiStay
from portfolio.selectors.scope import customers_visible_to, uti_stays_visible_to


class OnboardingBoard(TypedDict):
    """The onboarding board's context (a mapping: callers and the template read it by key)."""

    customers: list[Customer]
    stats: list[dict]  # per ISM: first values reached, the share on time, the average days to first value
    today: date


def onboarding_board(user: User) -> OnboardingBoard:
    """Customers in onboarding with their milestones, and per ISM: time to first value and on-time rate."""
    customers = (
        customers_visible_to(user)
        .filter(stage=Stage.ONBOARDING)
        .select_related("implementation_manager", "owner")
        # A plain list on each customer: the board iterates 200 customers' milestones, and a prefetched
        # manager's .all() builds a queryset per customer.
        .prefetch_related(Prefetch("milestones", to_attr="milestone_list"))
        .order_by("start_date", "pk")
    )
    # Every first value reached, from the customers' side: the door filters the customer rows the milestones join
    # (one pass over the customers, not a second one for an IN list of those the person sees).
    first_values = customers_visible_to(user).filter(
        milestones__kind=MilestoneKind.FIRST_VALUE, milestones__achieved_on__isnull=False
    )
    per_ism = (
        first_values.values("implementation_manager__full_name")
        .annotate(
            reached=Count("milestones__pk"),
            on_time=Count("milestones__pk", filter=Q(milestones__achieved_on__lte=F("milestones__target_date"))),
            avg_days=Avg(
                ExpressionWrapper(F("milestones__achieved_on") - F("start_date"), output_field=DurationField())
            ),
        )
        .order_by("implementation_manager__full_name")
    )
    stats = [
        {
            "ism": row["implementation_manager__full_name"] or "—",
            "reached": row["reached"],
            "on_time_rate": row["on_time"] / row["reached"] if row["reached"] else None,
            "avg_days": row["avg_days"].days if row["avg_days"] is not None else None,
        }
        for row in per_ism
    ]
    return {"customers": list(customers[:200]), "stats": stats, "today": timezone.localdate()}


def uti_outcomes(user: User, *, today: date | None = None) -> dict:
    """How UTI worked: exits by decision, and of the stays that began at least 90 days ago, how many
    customers were still paying 90 days after entering (no churn movement in those months)."""
    today = today or timezone.localdate()
    stays = uti_stays_visible_to(user)
    exits = dict(stays.order_by().values_list("exit").annotate(n=Count("pk")))
    mature = list(stays.filter(started_on__lte=today - timedelta(days=90)).values_list("customer_id", "started_on"))
    churn_months: dict[int, list[date]] = {}
    for customer_id, month in MrrMovement.objects.filter(
        customer_id__in={c for c, _ in mature}, kind=MovementKind.CHURN
    ).values_list("customer_id", "month"):
        churn_months.setdefault(customer_id, []).append(month)
    kept = sum(
        1
        for customer_id, started in mature
        if not any(month_start(started) <= m <= started + timedelta(days=90) for m in churn_months.get(customer_id, []))
    )
    return {
        "in_uti": exits.get(UtiExit.OPEN, 0),
        "recovered": exits.get(UtiExit.RECOVERED, 0),
        "churned": exits.get(UtiExit.CHURNED, 0),
        "mature": len(mature),
        "paying_after_90": kept,
    }


@dataclass(frozen=True)
class UtiBoard:
    """The UTI board: a page of the open stays, the nearest last day first; the latest exits; the outcomes."""

    page: Page
    recent: list[UtiStay]
    outcomes: dict


def uti_board(user: User, *, page_number: str | int | None, per_page: int) -> UtiBoard:
    # A page at a time: a leader's team can have hundreds in UTI at once.
    stays = (
        uti_stays_visible_to(user)
        .filter(exit=UtiExit.OPEN)
        .select_related("customer__owner", "churn_request__reason")
        .order_by("ends_on", "pk")
    )
    recent = list(
        uti_stays_visible_to(user)
        .exclude(exit=UtiExit.OPEN)
        .select_related("customer__owner")
        .order_by("-exited_on")[:20]
    )
    outcomes = uti_outcomes(user)
    paginator = Paginator(stays, per_page)
    paginator.count = outcomes["in_uti"]  # the open stays, already counted with the exits
    return UtiBoard(page=paginator.get_page(page_number), recent=recent, outcomes=outcomes)
