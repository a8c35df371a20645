"""My day: what needs the person today."""

from datetime import date, datetime, time, timedelta
from typing import TypedDict

from django.db.models import Count, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Window
from django.utils import timezone

from accounts.models import Role, User
from core import clock
from core.panels import PanelContent, load_day
from portfolio.models import (
    Activity,
    ActivityKind,
    ChurnOutcome,
    ChurnRequest,
    Customer,
    Milestone,
    ReviewStatus,
    Stage,
    SuccessReview,
    Task,
    TaskStatus,
    UtiExit,
    UtiStay,
)
from portfolio.selectors.renewals import MonthRenewals, month_renewals
from portfolio.selectors.scope import (
    churn_requests_visible_to,
    customers_visible_to,
    milestones_visible_to,
    reviews_visible_to,
    tasks_visible_to,
    uti_stays_visible_to,
)

TASKS_SHOWN = 50
LIST_SHOWN = 20  # the rows of each of the other lists
MILESTONES_COUNTED = 50  # a leader's milestones at risk are counted up to this many; beyond, "more than 50"


class MyDay(TypedDict):
    """The My day page's context (a mapping: callers and the template read it by key). ``sections`` names
    the lists the person's role acts on, in the order the page shows them."""

    today: date
    sections: tuple[str, ...]
    team: bool  # a leader's day: the lists are the team's, and each row names its CSM
    tasks: list[Task]
    task_count: int  # every task due, while ``tasks`` holds the first TASKS_SHOWN
    reviews: list[SuccessReview]  # the first LIST_SHOWN of each list below, and its count in all
    review_count: int
    uti: list[UtiStay]
    uti_count: int
    milestones: list[Milestone]
    milestone_count: int  # for a leader, counted up to milestones_counted: one more stands for "more than that"
    milestones_counted: int | None  # where the leader's count stops (None: counted in all)
    churn_requests: list[ChurnRequest]
    churn_count: int
    renewals: MonthRenewals | None  # this month's renewals still ahead (not on an ISM's day)
    changed: list[Customer]  # the person's customers whose stage changed since yesterday (customers_changed_stage)
    panels: list[PanelContent]  # what the apps above portfolio add (core.panels.register_day), in order


# What each role acts on beyond their own tasks: an ISM runs onboardings, not reviews or recovery months of
# customers she handed off long ago; a leader watches the whole team's lists.
ISM_SECTIONS = ("tasks", "milestones", "churn_requests", "uti")
SECTIONS = ("tasks", "churn_requests", "uti", "reviews", "milestones", "renewals")


class CappedCount(Subquery):
    """How many rows a queryset holds, counted up to its slice's end (``rows[:n + 1]``: n + 1 means "more than
    n"), as an uncorrelated scalar subquery: the count stops reading once it has seen that many."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


def _first_and_total(rows: QuerySet, shown: int, *, many: bool = False, cap: int | None = None) -> tuple[list, int]:
    """The first ``shown`` rows, and how many there are in all: each row carries the count, so one query, not a
    second one to count them. A leader's summary tiles say the whole team's numbers, not how many rows the list
    shows.

    A person's own lists (tens of rows) are counted by a window count, taken before the limit. ``many`` (a leader's
    lists: thousands of reviews, milestones or churn requests) counts them in an uncorrelated subquery of the same
    rows, narrow and without their joins (PostgreSQL runs it once, from the indexes): a window count would read
    every row whole, with its customer and people, before the limit kept 20, where now the list's ordered index
    gives the first 20 and stops. ``cap`` (with ``many``: a list no tile counts, whose card only says there are
    more than it shows) counts up to ``cap + 1`` rows and stops: the count is exact up to ``cap``, and ``cap + 1``
    stands for "more than ``cap``"."""
    if many and cap is not None:
        first = list(rows.annotate(in_all=CappedCount(rows.order_by().values("pk")[: cap + 1]))[:shown])
    elif many:
        every = rows.order_by().annotate(n=Func("pk", function="COUNT", output_field=IntegerField())).values("n")
        first = list(rows.annotate(in_all=Subquery(every))[:shown])
    else:
        first = list(rows.annotate(in_all=Window(Count("pk")))[:shown])
    return first, first[0].in_all if first else 0


def _implements(user: User) -> Q:
    """Customers whose onboarding ``user`` runs now: as their ISM, or as the CSM of a customer with none,
    until the handoff (a customer saved from churn during onboarding is still hers in UTI)."""
    runs = Q(customer__implementation_manager=user) | Q(
        customer__implementation_manager__isnull=True, customer__owner=user
    )
    return runs & Q(customer__handoff__isnull=True, customer__stage__in=(Stage.ONBOARDING, Stage.UTI))


def my_day(
    user: User, *, today: date | None = None, changed_since: datetime | None = None, defer_panels: bool = False
) -> MyDay:
    """What needs the person today, by what their role acts on: their overdue and today's tasks; for a CSM,
    reviews due, customers in UTI and churn requests of the customers they own; for an ISM, the milestones
    at risk and the churn requests and UTI of the onboardings she runs (not those of customers she handed
    off); for a leader, the team's lists, each naming its CSM. And, for each, the customers whose stage changed
    since ``changed_since`` (the page: since yesterday began; the morning digest: since yesterday's digest).
    ``defer_panels`` (the page): the panels the apps above load after the page shows are placed, not loaded
    (``core.panels.load_day``)."""
    today = today or clock.today()
    if changed_since is None:
        changed_since = datetime.combine(today - timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())
    mine = Q(owner=user)
    tasks = (
        tasks_visible_to(user)
        .filter(mine, status=TaskStatus.OPEN, due_date__lte=today)
        .select_related("customer")
        .order_by("due_date", "pk")
    )
    # A leader's day also holds the team's overdue reviews, UTI customers and churn requests.
    leads = user.is_admin or user.role == Role.LEADER
    implements = _implements(user)
    if leads:
        customer_people, onboardings, sections = Q(), Q(), SECTIONS
    elif user.role == Role.ISM:
        customer_people, onboardings, sections = implements, implements, ISM_SECTIONS
    else:
        customer_people, onboardings, sections = Q(customer__owner=user), implements, SECTIONS
    due_reviews = Q(due_date__lte=today + timedelta(days=14)) & (mine | Q(due_date__lt=today) if leads else mine)
    reviews = (
        reviews_visible_to(user)
        .filter(due_reviews, status=ReviewStatus.SCHEDULED)
        .select_related("customer", "owner")
        .order_by("due_date", "pk")
    )
    uti = (
        uti_stays_visible_to(user)
        .filter(customer_people, exit=UtiExit.OPEN)
        .select_related("customer__owner")
        .order_by("ends_on", "pk")
    )
    milestones = (
        milestones_visible_to(user)
        .filter(
            onboardings,
            achieved_on__isnull=True,
            customer__stage=Stage.ONBOARDING,
            target_date__lte=today + timedelta(days=7),
        )
        .select_related("customer__implementation_manager")
        .order_by("target_date")
    )
    churn = (
        churn_requests_visible_to(user)
        .filter(customer_people, outcome=ChurnOutcome.OPEN)
        .select_related("customer__owner", "reason")
        .order_by("-created_at")
    )
    shown_tasks, task_count = _first_and_total(tasks, TASKS_SHOWN)
    shown_reviews, review_count = (
        _first_and_total(reviews, LIST_SHOWN, many=leads) if "reviews" in sections else ([], 0)
    )
    shown_uti, uti_count = _first_and_total(uti, LIST_SHOWN, many=leads)
    # No tile counts a leader's milestones at risk (thousands on a large book): the card says how many there are
    # up to 50, and beyond only that there are more.
    milestones_counted = MILESTONES_COUNTED if leads else None
    shown_milestones, milestone_count = _first_and_total(milestones, LIST_SHOWN, many=leads, cap=milestones_counted)
    shown_churn, churn_count = _first_and_total(churn, LIST_SHOWN, many=leads)
    return {
        "today": today,
        "sections": sections,
        "team": leads,
        "tasks": shown_tasks,
        "task_count": task_count,
        "reviews": shown_reviews,
        "review_count": review_count,
        "uti": shown_uti,
        "uti_count": uti_count,
        "milestones": shown_milestones,
        "milestone_count": milestone_count,
        "milestones_counted": milestones_counted,
        "churn_requests": shown_churn,
        "churn_count": churn_count,
        "renewals": (
            month_renewals(user, today, Q() if leads else Q(owner=user), many=leads) if "renewals" in sections else None
        ),
        "changed": customers_changed_stage(user, since=changed_since, until=timezone.now()),
        "panels": load_day(user, today, defer=defer_panels),
    }


def customers_changed_stage(user: User, *, since: datetime, until: datetime, shown: int = 20) -> list[Customer]:
    """The person's customers whose journey stage changed between ``since`` and ``until`` (My day's and the
    morning digest's "since yesterday"): the customers they own; the onboardings an ISM runs (not yet handed
    off); a leader's team. A customer created in that time and still onboarding has not changed: it is new. Each
    customer comes with ``from_stage``, the stage its last change left (from its timeline). One query."""
    if user.is_admin or user.role == Role.LEADER:
        people = Q()
    elif user.role == Role.ISM:
        # The onboardings she runs (as on her My day): not the customers she handed off long ago.
        runs = Q(implementation_manager=user) | Q(implementation_manager__isnull=True, owner=user)
        people = runs & Q(handoff__isnull=True)
    else:
        people = Q(owner=user)
    return list(
        customers_visible_to(user)
        .filter(people, stage_changed_at__gte=since, stage_changed_at__lt=until)
        .exclude(created_at__gte=since, stage=Stage.ONBOARDING)
        .select_related("owner")
        .annotate(
            from_stage=Subquery(
                Activity.objects.filter(customer=OuterRef("pk"), kind=ActivityKind.STAGE_CHANGE)
                .order_by("-happened_at", "-pk")
                .values("data__from")[:1]
            )
        )
        .order_by("-stage_changed_at", "pk")[:shown]
    )
