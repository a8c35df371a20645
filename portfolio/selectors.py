"""Every read a page or the API needs about customers. Each takes the acting user and starts from the
door (accounts.access), so nothing here can return another team's data."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from django.db.models import Count, Exists, F, Model, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from accounts.access import changeable_filter, visible_filter
from accounts.models import Role, User
from portfolio.models import (
    Activity,
    ChurnOutcome,
    ChurnRequest,
    Contact,
    ContactRole,
    Customer,
    ExpansionOpportunity,
    Milestone,
    MrrMovement,
    ReviewStatus,
    Stage,
    Subscription,
    SuccessReview,
    Task,
    TaskStatus,
    UtiExit,
    UtiStay,
)

CUSTOMER_PEOPLE = ("owner", "implementation_manager", "farmer")
M = TypeVar("M", bound=Model)


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """The one starting point for customers: what ``user`` may see."""
    return Customer.objects.filter(visible_filter(user, people=CUSTOMER_PEOPLE))


def of_visible_customers(model: type[M], user: User) -> QuerySet[M]:
    """Rows of a customer's things (contacts, tasks, reviews…) that ``user`` may see: those of the visible
    customers, as a semi-join on their ids. A join through the customer's people instead makes PostgreSQL
    hash whole customer rows, several times slower for a leader who sees tens of thousands."""
    return model.objects.filter(customer__in=customers_visible_to(user).values("pk"))


def customers_changeable_by(user: User) -> QuerySet[Customer]:
    return Customer.objects.filter(changeable_filter(user, people=CUSTOMER_PEOPLE))


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    return of_visible_customers(Contact, user)


def subscriptions_visible_to(user: User) -> QuerySet[Subscription]:
    return of_visible_customers(Subscription, user)


def activities_visible_to(user: User) -> QuerySet[Activity]:
    return of_visible_customers(Activity, user)


def tasks_visible_to(user: User) -> QuerySet[Task]:
    return of_visible_customers(Task, user)


def churn_requests_visible_to(user: User) -> QuerySet[ChurnRequest]:
    return of_visible_customers(ChurnRequest, user)


def milestones_visible_to(user: User) -> QuerySet[Milestone]:
    return of_visible_customers(Milestone, user)


def reviews_visible_to(user: User) -> QuerySet[SuccessReview]:
    return of_visible_customers(SuccessReview, user)


def uti_stays_visible_to(user: User) -> QuerySet[UtiStay]:
    return of_visible_customers(UtiStay, user)


def opportunities_visible_to(user: User) -> QuerySet[ExpansionOpportunity]:
    return of_visible_customers(ExpansionOpportunity, user)


def mrr_movements_visible_to(user: User) -> QuerySet[MrrMovement]:
    return of_visible_customers(MrrMovement, user)


# --- The portfolio list -------------------------------------------------------------------------------

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "mrr": ("mrr_cents", "pk"),
    "-mrr": ("-mrr_cents", "-pk"),
    "renewal": (F("renewal_date").asc(nulls_last=True), "pk"),
    "-renewal": (F("renewal_date").desc(nulls_last=True), "-pk"),
    "touch": (F("last_touch_at").asc(nulls_first=True), "pk"),
    "-touch": (F("last_touch_at").desc(nulls_last=True), "-pk"),
    "stage": ("stage", "name", "pk"),
}


@dataclass(frozen=True)
class PortfolioFilters:
    q: str = ""
    stage: str = ""
    service_model: str = ""
    segment: str = ""
    owner: int | None = None
    sort: str = "name"


def portfolio_list(user: User, filters: PortfolioFilters) -> QuerySet[Customer]:
    """The customers on the portfolio page, filtered and sorted; one query for the page of rows."""
    qs = customers_visible_to(user).select_related("owner", "implementation_manager")
    if filters.q:
        term = filters.q.strip()
        digits = "".join(ch for ch in term if ch.isdigit())
        match = Q(name__icontains=term) | Q(external_id=term)
        if len(digits) >= 8:
            match |= Q(cnpj__startswith=digits)
        qs = qs.filter(match)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.service_model:
        qs = qs.filter(service_model=filters.service_model)
    if filters.segment:
        qs = qs.filter(segment=filters.segment)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    qs = qs.annotate(
        open_churn=Exists(ChurnRequest.objects.filter(customer=OuterRef("pk"), outcome=ChurnOutcome.OPEN)),
        delinquent=Exists(Subscription.objects.filter(customer=OuterRef("pk"), status="delinquent")),
    )
    return qs.order_by(*SORTS.get(filters.sort, SORTS["name"]))


def portfolio_totals(user: User, filters: PortfolioFilters) -> dict:
    qs = portfolio_list(user, filters).order_by()
    return qs.aggregate(count=Count("pk"), mrr_cents=Sum("mrr_cents"))


# --- The customer page -------------------------------------------------------------------------------------


def customer_detail(user: User, pk: int) -> Customer:
    """One customer with what its page shows, in a fixed number of queries."""
    from accounts.access import get_visible_or_404

    return get_visible_or_404(
        customers_visible_to(user)
        .select_related("owner", "implementation_manager", "farmer", "handoff__to_user", "handoff__from_user")
        .prefetch_related(
            "tags",
            "milestones",
            Prefetch("contacts", queryset=Contact.objects.order_by("role", "name")),
            Prefetch(
                "subscriptions",
                queryset=Subscription.objects.order_by("-start_date", "-pk"),
            ),
            Prefetch(
                "churn_requests",
                queryset=ChurnRequest.objects.select_related("reason__category", "opened_by").prefetch_related(
                    "save_attempts__by"
                ),
            ),
            Prefetch("uti_stays", queryset=UtiStay.objects.order_by("-started_on")),
            Prefetch("reviews", queryset=SuccessReview.objects.select_related("owner").order_by("-due_date")),
            Prefetch("opportunities", queryset=ExpansionOpportunity.objects.select_related("owner")),
            Prefetch(
                "tasks",
                queryset=Task.objects.filter(status=TaskStatus.OPEN).select_related("owner").order_by("due_date"),
                to_attr="open_tasks",
            ),
        ),
        pk=pk,
    )


def customer_timeline(user: User, customer: Customer, *, kind: str = "", limit: int = 50) -> list[Activity]:
    qs = activities_visible_to(user).filter(customer=customer).select_related("author")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs[:limit])


def stakeholder_coverage(contacts: list[Contact]) -> dict[str, bool]:
    roles = {c.role for c in contacts}
    return {
        "decision_maker": ContactRole.DECISION_MAKER in roles,
        "champion": ContactRole.CHAMPION in roles,
    }


def mrr_history(customer: Customer, *, months: int = 12) -> list[dict]:
    """Month-end MRR for the last ``months`` months, from the ledger."""
    from portfolio.ledger import add_months, month_start

    today = timezone.localdate()
    first = add_months(month_start(today), -(months - 1))
    rows = list(customer.mrr_movements.order_by("month").values("month", "mrr_end_cents", "kind", "amount_cents"))
    history, level, i = [], 0, 0
    while i < len(rows) and rows[i]["month"] < first:
        level = rows[i]["mrr_end_cents"]
        i += 1
    by_month = {r["month"]: r for r in rows[i:]}
    for n in range(months):
        month = add_months(first, n)
        row = by_month.get(month)
        if row:
            level = row["mrr_end_cents"]
        history.append({"month": month, "mrr_cents": level, "kind": row["kind"] if row else None})
    return history


# --- My day -----------------------------------------------------------------------------------------------


def my_day(user: User, *, today: date | None = None) -> dict:
    """What needs the person today: their overdue and today's tasks, reviews due, customers in UTI,
    onboarding milestones at risk and new churn requests in their scope."""
    today = today or timezone.localdate()
    mine = Q(owner=user)
    tasks = (
        tasks_visible_to(user)
        .filter(mine, status=TaskStatus.OPEN, due_date__lte=today)
        .select_related("customer")
        .order_by("due_date", "pk")
    )
    # A leader's day also holds the team's overdue reviews, UTI customers and churn requests.
    leads = user.is_admin or user.role == Role.LEADER
    due_reviews = Q(due_date__lte=today + timedelta(days=14)) & (mine | Q(due_date__lt=today) if leads else mine)
    reviews = (
        reviews_visible_to(user)
        .filter(due_reviews, status=ReviewStatus.SCHEDULED)
        .select_related("customer")
        .order_by("due_date", "pk")
    )
    customer_people = Q() if leads else Q(customer__owner=user) | Q(customer__implementation_manager=user)
    uti = (
        uti_stays_visible_to(user)
        .filter(customer_people, exit=UtiExit.OPEN)
        .select_related("customer")
        .order_by("ends_on")
    )
    milestones = (
        milestones_visible_to(user)
        .filter(
            customer_people,
            achieved_on__isnull=True,
            customer__stage=Stage.ONBOARDING,
            target_date__lte=today + timedelta(days=7),
        )
        .select_related("customer")
        .order_by("target_date")
    )
    churn = (
        churn_requests_visible_to(user)
        .filter(customer_people, outcome=ChurnOutcome.OPEN)
        .select_related("customer", "reason")
        .order_by("-created_at")
    )
    return {
        "today": today,
        "tasks": list(tasks[:50]),
        "reviews": list(reviews[:20]),
        "uti": list(uti[:20]),
        "milestones": list(milestones[:20]),
        "churn_requests": list(churn[:20]),
    }


def uti_outcomes(user: User, *, today: date | None = None) -> dict:
    """How UTI worked: exits by decision, and of the stays that began at least 90 days ago, how many
    customers were still paying 90 days after entering (no churn movement in those months)."""
    from portfolio.ledger import month_start
    from portfolio.models import MovementKind

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


def onboarding_board(user: User) -> dict:
    """Customers in onboarding with their milestones, and per ISM: time to first value and on-time rate."""
    from django.db.models import Avg, DurationField, ExpressionWrapper

    from portfolio.models import MilestoneKind

    customers = (
        customers_visible_to(user)
        .filter(stage=Stage.ONBOARDING)
        .select_related("implementation_manager", "owner")
        .prefetch_related("milestones")
        .order_by("start_date", "pk")
    )
    first_value = milestones_visible_to(user).filter(kind=MilestoneKind.FIRST_VALUE, achieved_on__isnull=False)
    per_ism = (
        first_value.values("customer__implementation_manager__full_name")
        .annotate(
            reached=Count("pk"),
            on_time=Count("pk", filter=Q(achieved_on__lte=F("target_date"))),
            avg_days=Avg(ExpressionWrapper(F("achieved_on") - F("customer__start_date"), output_field=DurationField())),
        )
        .order_by("customer__implementation_manager__full_name")
    )
    stats = [
        {
            "ism": row["customer__implementation_manager__full_name"] or "—",
            "reached": row["reached"],
            "on_time_rate": row["on_time"] / row["reached"] if row["reached"] else None,
            "avg_days": row["avg_days"].days if row["avg_days"] is not None else None,
        }
        for row in per_ism
    ]
    return {"customers": list(customers[:200]), "stats": stats}
