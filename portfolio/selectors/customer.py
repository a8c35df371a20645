"""The customer page: one customer with its journey, timeline, tasks, contacts, subscriptions and MRR,
opportunities, churn requests and UTI stay, read in a fixed number of queries."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.access import can_reassign, can_write, get_visible_or_404
from accounts.models import User
from accounts.selectors import assignable_people, users_visible_to
from core.panels import PanelContent, load_all
from portfolio.ledger import add_months, month_start
from portfolio.models import (
    RUNNING_STATUSES,
    Activity,
    ChurnOutcome,
    ChurnRequest,
    Contact,
    ContactRole,
    Customer,
    ExpansionOpportunity,
    Handoff,
    Milestone,
    ReviewStatus,
    Subscription,
    SuccessReview,
    Task,
    TaskStatus,
    UtiExit,
    UtiStay,
    activity_kinds,
)
from portfolio.selectors.scope import activities_visible_to, customers_visible_to


def customer_detail(user: User, pk: int) -> Customer:
    """One customer with what its page shows, in a fixed number of queries."""
    return get_visible_or_404(
        customers_visible_to(user)
        .select_related("owner", "implementation_manager", "farmer", "handoff__to_user", "handoff__from_user")
        .prefetch_related(
            "tags",
            "milestones",
            Prefetch("contacts", queryset=Contact.objects.filter(archived_at__isnull=True).order_by("role", "name")),
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
    qs = activities_visible_to(user).filter(customer=customer).select_related("author", "contact")
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


def task_assignees(user: User) -> QuerySet[User]:
    """Whom ``user`` may give a task: the people they may hand customers to, or, for those who hand none,
    the people they see (themselves)."""
    return assignable_people(user) if can_reassign(user) else users_visible_to(user)


# The next two read rows of a customer that came through the door (customer_get): they are in scope, and a
# second scope filter would only make the query heavier.


def subscriptions_running(customer: Customer) -> QuerySet[Subscription]:
    """The customer's subscriptions in force (active, trial, delinquent): what a churn outcome can change."""
    return customer.subscriptions.filter(status__in=RUNNING_STATUSES)


def open_task_count(customer: Customer) -> int:
    """The customer page's "Open tasks" counter, after a task there is marked done."""
    return customer.tasks.filter(status=TaskStatus.OPEN).count()


def customer_contacts(customer: Customer) -> list[Contact]:
    """The customer's contacts in the order its page lists them."""
    return list(customer.contacts.filter(archived_at__isnull=True).order_by("role", "name"))


def customer_milestones(customer: Customer) -> list[Milestone]:
    return list(customer.milestones.all())


@dataclass(frozen=True)
class CustomerTimeline:
    """The customer's timeline card: its latest entries, optionally of one kind."""

    customer: Customer
    timeline: list[Activity]
    timeline_kind: str
    timeline_kinds: list[tuple[str, str]]


def customer_timeline_card(user: User, customer: Customer, *, kind: str = "") -> CustomerTimeline:
    return CustomerTimeline(
        customer=customer,
        timeline=customer_timeline(user, customer, kind=kind),
        timeline_kind=kind,
        timeline_kinds=activity_kinds(),
    )


@dataclass(frozen=True)
class CustomerPage:
    """Everything the customer page shows about one customer, and what the acting user may do there."""

    customer: Customer
    contacts: list[Contact]
    coverage: dict[str, bool]  # stakeholder coverage: a decision maker, a champion among the contacts
    subscriptions: list[Subscription]
    running_subscriptions: list[Subscription]
    # The running subscriptions again, as choices for a form: a queryset of the ids already read, so none
    # running costs no query.
    running_subscription_choices: QuerySet[Subscription]
    mrr_history: list[dict]  # month-end MRR of the last 12 months
    mrr_max: int
    milestones: list[Milestone]
    handoff: Handoff | None
    reviews: list[SuccessReview]
    next_review: SuccessReview | None
    churn_requests: list[ChurnRequest]
    open_churn: ChurnRequest | None
    uti: UtiStay | None  # the open stay, while the customer is in its recovery month
    opportunities: list[ExpansionOpportunity]
    tasks: list[Task]  # the open ones
    timeline: list[Activity]
    timeline_kind: str
    timeline_kinds: list[tuple[str, str]]
    task_assignees: QuerySet[User]
    panels: list[PanelContent]  # what the apps above portfolio add (core.panels), in order
    can_write: bool
    today: date


def customer_page(user: User, pk: int, *, timeline_kind: str = "") -> CustomerPage:
    """The customer page (404 outside ``user``'s scope), in a fixed number of queries however much the
    customer has: the customer and its prefetched rows, the MRR history, the timeline and each registered
    panel's own fixed reads."""
    customer = customer_detail(user, pk)
    contacts = list(customer.contacts.all())
    subscriptions = list(customer.subscriptions.all())
    running = [s for s in subscriptions if s.is_current]
    churn_requests = list(customer.churn_requests.all())
    reviews = list(customer.reviews.all())
    history = mrr_history(customer)
    timeline = customer_timeline_card(user, customer, kind=timeline_kind)
    return CustomerPage(
        customer=customer,
        contacts=contacts,
        coverage=stakeholder_coverage(contacts),
        subscriptions=subscriptions,
        running_subscriptions=running,
        running_subscription_choices=customer.subscriptions.filter(pk__in=[s.pk for s in running]),
        mrr_history=history,
        mrr_max=max([h["mrr_cents"] for h in history] + [1]),
        milestones=list(customer.milestones.all()),
        handoff=getattr(customer, "handoff", None),
        reviews=reviews,
        next_review=next((r for r in reviews if r.status == ReviewStatus.SCHEDULED), None),
        churn_requests=churn_requests,
        open_churn=next((c for c in churn_requests if c.outcome == ChurnOutcome.OPEN), None),
        uti=next((s for s in customer.uti_stays.all() if s.exit == UtiExit.OPEN), None),
        opportunities=list(customer.opportunities.all()),
        tasks=customer.open_tasks,
        timeline=timeline.timeline,
        timeline_kind=timeline.timeline_kind,
        timeline_kinds=timeline.timeline_kinds,
        task_assignees=task_assignees(user),
        panels=load_all(user, customer),
        can_write=can_write(user),
        today=timezone.localdate(),
    )
