"""The team boards: onboarding (customers on their way to first value, and each ISM's pace) and UTI
(customers in their recovery month, and how UTI has worked)."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

from django.core.paginator import Page, Paginator
from django.db.models import (
    Avg,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import User
from portfolio import tally
from portfolio.models import (
    Customer,
    FirstValueTally,
    Milestone,
    MilestoneKind,
    MovementKind,
    MrrMovement,
    Stage,
    UtiExit,
    UtiStay,
)
from portfolio.selectors.scope import (
    customers_visible_to,
    page_sees_every_customer,
    uti_stays_visible_to,
    visible_through,
)

ONBOARDING_PAGE = 50  # customers a page of the board shows; the next ones come after the last one's key


class OnboardingBoard(TypedDict):
    """The onboarding board's context (a mapping: callers and the template read it by key)."""

    customers: list[Customer]  # a page of them, the earliest start first
    after: str  # the key the page starts after ("" for the first page)
    next_after: str  # the key of the page's last customer when more come after it, else ""
    stats: list[dict]  # per ISM: first values reached, the share on time, the average days to first value
    pace_since: date  # the first day of the pace's window (the last 12 months)
    today: date


def onboarding_key(customer: Customer) -> str:
    """Where a page of the board ends: the customer's start date and id, the board's order."""
    return f"{customer.start_date.isoformat()}.{customer.pk}"


def parse_onboarding_key(value: str | None) -> tuple[date, int] | None:
    """The (start date, id) a page starts after, from ``onboarding_key``; None for anything else."""
    day, _, pk = (value or "").partition(".")
    try:
        return date.fromisoformat(day), int(pk)
    except ValueError:
        return None


def onboarding_customers(
    user: User, *, after: tuple[date, int] | None = None, per_page: int | None = None
) -> tuple[list[Customer], str]:
    """A page of the customers in onboarding the person sees, by start date and id, after the key ``after``, each
    with ``milestone_list``; and the key the next page starts after ("" when this is the last). Two queries.
    Keyset paging: a later page reads as few rows as the first, however far it is."""
    per_page = per_page or ONBOARDING_PAGE
    customers = customers_visible_to(user).filter(stage=Stage.ONBOARDING)
    if after is not None:
        customers = customers.filter(Q(start_date__gt=after[0]) | Q(start_date=after[0], pk__gt=after[1]))
    page = list(
        customers.select_related("implementation_manager")
        .only("name", "service_model", "start_date", "implementation_manager__full_name")
        # A plain list on each customer: the board iterates its customers' milestones, and a prefetched
        # manager's .all() builds a queryset per customer.
        .prefetch_related(
            Prefetch(
                "milestones",
                Milestone.objects.only("customer_id", "kind", "description", "target_date", "achieved_on"),
                to_attr="milestone_list",
            )
        )
        .order_by("start_date", "pk")[: per_page + 1]
    )
    more = len(page) > per_page
    page = page[:per_page]
    return page, onboarding_key(page[-1]) if more else ""


def pace_since(today: date) -> date:
    """The first day of the pace's window: the same day a year before ``today`` (28 February for a 29th), so the
    window holds the last 12 months, ``today`` among them."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


def onboarding_pace(user: User, *, today: date | None = None) -> list[dict]:
    """Per ISM, of the customers the person sees: the first values reached in the last 12 months (on or after
    ``pace_since``), the share on time and the average days from the start to first value (whole days, rounded
    down). One query.

    A window, not every first value ever reached: a team reads its recent pace, and the board reads the window's
    first values, not the whole history. They come from a covering index of the first values by the day reached
    (portfolio 0027: the customer and target with each), each then joined to its customer by key for its start and
    ISM through the door. A CSM's or ISM's few customers are read first (their people's indexes) and each one's
    first value after them (portfolio 0021), whichever the planner finds fewer. Someone whose door holds every
    customer (a leader of the whole book) reads the same figures from the first values tallied per day and ISM
    (``FirstValueTally``, kept by the database): the window's days, not its thousands of first values."""
    since = pace_since(today or timezone.localdate())
    if tally.kept() and page_sees_every_customer(user):
        return _pace_of_everyone(since)
    first_values = Milestone.objects.filter(
        visible_through(user),
        kind=MilestoneKind.FIRST_VALUE,
        achieved_on__gte=since,
        customer__start_date__isnull=False,
    )
    per_ism = (
        first_values.values("customer__implementation_manager__full_name")
        .annotate(
            reached=Count("pk"),
            on_time=Count("pk", filter=Q(achieved_on__lte=F("target_date"))),
            avg_days=Avg(ExpressionWrapper(F("achieved_on") - F("customer__start_date"), output_field=DurationField())),
        )
        .order_by("customer__implementation_manager__full_name")
    )
    return [
        {
            "ism": row["customer__implementation_manager__full_name"] or "—",
            "reached": row["reached"],
            "on_time_rate": row["on_time"] / row["reached"] if row["reached"] else None,
            "avg_days": row["avg_days"].days if row["avg_days"] is not None else None,
        }
        for row in per_ism
    ]


def _pace_of_everyone(since: date) -> list[dict]:
    """``onboarding_pace`` for someone who sees every customer, from the first values tallied per day and ISM
    (``FirstValueTally``): at most a row per day of the window and ISM, however many customers there are, grouped
    and ordered by the ISM's name as the milestones are. One query."""
    ism_name = Subquery(User.objects.filter(pk=OuterRef("ism")).order_by().values("full_name")[:1])
    per_ism = (
        FirstValueTally.objects.filter(day__gte=since)
        .annotate(ism_name=ism_name)
        .values("ism_name")
        .annotate(reached_n=Sum("reached"), on_time_n=Sum("on_time"), days_n=Sum("days"))
        .filter(reached_n__gt=0)
        .order_by(F("ism_name").asc(nulls_last=True))
    )
    return [
        {
            "ism": row["ism_name"] or "—",
            "reached": row["reached_n"],
            "on_time_rate": row["on_time_n"] / row["reached_n"],
            "avg_days": row["days_n"] // row["reached_n"],  # whole days, rounded down, as the interval's average
        }
        for row in per_ism
    ]


def onboarding_board(
    user: User, *, after: tuple[date, int] | None = None, per_page: int | None = None
) -> OnboardingBoard:
    """Customers in onboarding with their milestones, a page at a time, and per ISM: time to first value and
    on-time rate over the last 12 months. Three queries."""
    today = timezone.localdate()
    customers, next_after = onboarding_customers(user, after=after, per_page=per_page)
    return {
        "customers": customers,
        "after": f"{after[0].isoformat()}.{after[1]}" if after else "",
        "next_after": next_after,
        "stats": onboarding_pace(user, today=today),
        "pace_since": pace_since(today),
        "today": today,
    }


def uti_outcomes(user: User, *, today: date | None = None) -> dict:
    """How UTI worked: exits by decision, and of the stays that began at least 90 days ago, how many
    customers were still paying 90 days after entering (no churn movement from the month they entered to 90 days
    after). Two queries, whatever the number of stays: the second counts the mature stays and, with a correlated
    ``NOT EXISTS`` on the ledger, those still paying, in the database."""
    today = today or timezone.localdate()
    stays = uti_stays_visible_to(user)
    exits = dict(stays.order_by().values_list("exit").annotate(n=Count("pk")))
    mature = stays.filter(started_on__lte=today - timedelta(days=90)).annotate(
        entered=TruncMonth("started_on", output_field=DateField()),
        ninety_days=ExpressionWrapper(F("started_on") + timedelta(days=90), output_field=DateField()),
    )
    churned_within_90 = MrrMovement.objects.filter(
        customer_id=OuterRef("customer_id"),
        kind=MovementKind.CHURN,
        month__gte=OuterRef("entered"),
        month__lte=OuterRef("ninety_days"),
    )
    counted = mature.annotate(paying=~Exists(churned_within_90)).aggregate(
        n=Count("pk"), kept=Count("pk", filter=Q(paying=True))
    )
    return {
        "in_uti": exits.get(UtiExit.OPEN, 0),
        "recovered": exits.get(UtiExit.RECOVERED, 0),
        "churned": exits.get(UtiExit.CHURNED, 0),
        "mature": counted["n"],
        "paying_after_90": counted["kept"],
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
