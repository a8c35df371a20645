"""CS operations per person: how onboarding, handoffs, success reviews, detractor follow-ups and tasks are going,
for the metrics page's period and filters.

Every figure counts the journey's own rows (milestones, handoffs, reviews, survey answers, tasks), bounded by the
period, in one grouped query each; the months before the running one come from ``metrics.operations_tallies`` (the
same counts made ahead of time, read while fresh), so a year or a trailing twelve months costs a read of the tallies
and the running month's own queries.

* **Onboarding, per ISM** (the customer's implementation manager): of the *first value* milestones reached in the
  period, the median days from the customer's start to the milestone; of those whose target date fell in the period
  (up to today), the share reached on or before it (one not reached yet is late).
* **Handoffs on time, per CSM** (who received it): handoffs held in the period on or before the customer's *first
  success* target (its milestone's date, else start + the service model's "first success within" days).
* **Success-review coverage, per CSM** (the customer's CSM now): among the customers in ongoing (or UTI) on the
  period's last day (or today; ``portfolio.selectors.stage_on`` reads a past stage from the timeline) whose service
  model has a review cadence, those with no review overdue on that day: a review is overdue when its due date has
  passed and it was not held by then.
* **Detractor loops, per CSM** (whom the answer counted for): detractor answers (NPS, CSAT, CES; never eNPS) given in
  the period, how many were followed up (the loop closed by a touch with the contact), and the median days from the
  answer to the closing touch.
* **Tasks overdue, per CSM** (the task's owner): tasks open on that day with a due date before it.

The door: those who compare CSMs (leaders, admins, viewers) read the rows of the customers they see; anyone else
reads their own row and their team's median, never a colleague's row (``accounts.access.sees_every_person``).
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import sees_every_person, visible_filter
from accounts.models import OWNER_ROLES, Role, User
from core import clock
from core.paging import Paged
from metrics.figures import Figure, ratio
from metrics.models import OperationsTally, OperationsTallyBuild
from metrics.periods import Period
from portfolio.ledger import month_end, month_start
from portfolio.models import (
    Customer,
    Handoff,
    Milestone,
    MilestoneKind,
    ReviewStatus,
    ServiceModelPolicy,
    Stage,
    SuccessReview,
    Task,
    TaskStatus,
)
from portfolio.selectors import CUSTOMER_PEOPLE, customers_visible_to, in_stage_on, sees_every_customer, visible_through
from surveys import scoring
from surveys.models import Response, SurveyKind

# --- What each figure is -----------------------------------------------------------------------------------

LABELS = {
    "first_value_reached": _("First value reached"),
    "first_value_days": _("Days to first value (median)"),
    "first_value_due": _("First value due"),
    "onboarding_on_time": _("First value on time"),
    "handoffs": _("Handoffs"),
    "handoffs_on_time": _("Handoffs on time"),
    "review_eligible": _("Customers with a review cadence"),
    "review_coverage": _("Review coverage"),
    "reviews_overdue": _("Reviews overdue"),
    "detractors": _("Detractor answers"),
    "loops_closed": _("Loops closed"),
    "loops_open": _("Loops still open"),
    "loop_days": _("Days to close a loop (median)"),
    "tasks_overdue": _("Tasks overdue"),
    "nps": _("NPS"),
}

HOW = {
    "first_value_days": _(
        "Of the first-value milestones reached in the period, the median number of days from the customer's start "
        "date to the day it was reached; by the customer's implementation manager (ISM)."
    ),
    "onboarding_on_time": _(
        "Of the first-value milestones whose target date fell in the period (up to today), the share reached on or "
        "before the target date; one not reached yet counts as late."
    ),
    "handoffs_on_time": _(
        "Of the handoffs held in the period, the share held on or before the customer's first-success target (its "
        "milestone's date, else its start date plus the service model's days to first success); by the CSM who "
        "received the customer."
    ),
    "review_coverage": _(
        "Customers in ongoing or UTI on the period's last day (today for the running month), by the stage their "
        "timeline shows for that day, whose service model has a review cadence: the share with no success review "
        "overdue on that day. A review is overdue once its due date has passed and it was not held by then. By the "
        "customer's CSM now."
    ),
    "loops": _(
        "Detractor answers (NPS 0–6, CSAT and CES in their lowest boxes; never eNPS) given in the period, counted for "
        "the CSM the answer counted for when given; closed when a touch with the contact who answered followed it. "
        "The median is the days from the answer to that touch, over the loops closed."
    ),
    "tasks_overdue": _(
        "Tasks still open on the period's last day (today for the running month) whose due date was before it; by "
        "the task's owner."
    ),
    "nps": _(
        "NPS of the answers given in the period, counted for the CSM the answer counted for when given: % promoters "
        "(9–10) − % detractors (0–6)."
    ),
}

NOTHING_REACHED = _("No first-value milestone was reached in the period.")
NOTHING_DUE = _("No first-value milestone was due in the period.")
NO_HANDOFF = _("No handoff was held in the period.")
NO_CADENCE = _("No customer in ongoing has a review cadence.")
NO_LOOP_CLOSED = _("No detractor loop of the period was closed yet.")
NO_NPS = _("No NPS answer in the period.")
NO_TEAM = _("No one else in your team has this figure for the period.")

ISM_COLUMNS = ("first_value_reached", "first_value_days", "first_value_due", "onboarding_on_time")
CSM_COLUMNS = (
    "handoffs", "handoffs_on_time", "review_eligible", "review_coverage", "reviews_overdue", "detractors",
    "loops_closed", "loop_days", "tasks_overdue",
)  # fmt: skip
# The figures the per-CSM comparison gains from here, after its own.
COMPARISON_COLUMNS = ("nps", "reviews_overdue", "tasks_overdue")
MEDIAN_COLUMNS = (*CSM_COLUMNS, "nps")
COMPARISON_LABELS = {key: LABELS[key] for key in COMPARISON_COLUMNS}

REVIEW_STAGES = (Stage.ONGOING, Stage.UTI)

# The customers each column's number opens (a figure of ``DRILLS``).
COLUMN_DRILLS = {
    "first_value_reached": "first_value_reached",
    "first_value_days": "first_value_reached",
    "first_value_due": "first_value_due",
    "onboarding_on_time": "first_value_due",
    "handoffs": "handoffs",
    "handoffs_on_time": "handoffs",
    "review_eligible": "review_eligible",
    "review_coverage": "review_eligible",
    "reviews_overdue": "reviews_overdue",
    "detractors": "detractors",
    "loops_closed": "detractors",
    "loop_days": "detractors",
    "tasks_overdue": "tasks_overdue",
}


# --- The period's window ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The days a period covers, up to today: ``first`` to ``last``, both included."""

    first: date
    last: date

    @classmethod
    def of(cls, period: Period) -> "Window":
        return cls(period.start, min(month_end(period.end), clock.today()))

    def moments(self) -> tuple[datetime, datetime]:
        """The same days as aware moments, ``[start, end)``."""
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.first, time.min, tzinfo=zone)
        return start, datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=zone)


# --- Whose rows a person reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose rows to count: every customer ``user`` sees (those who compare), or the rows of the people of
    ``user``'s team, of which ``user`` reads only their own and the median. ``everyone``: the door lets ``user``
    through to every customer (``portfolio.selectors.sees_every_customer``), so the rows need no test of it."""

    user: User
    compares: bool
    team_ids: tuple[int, ...] = ()
    everyone: bool = False

    @classmethod
    def of(cls, user: User) -> "Scope":
        if sees_every_person(user):
            return cls(user, True, everyone=sees_every_customer(user))
        team = [user.pk]
        if user.team_id:
            team += list(User.objects.filter(team_id=user.team_id).exclude(pk=user.pk).values_list("pk", flat=True))
        return cls(user, False, tuple(team))

    def rows_q(self, *, customer: str, person: str) -> Q:
        """``customer``: the path to the row's customer; ``person``: to the person the row is counted for. The door
        is tested on the row's customer as joined (``visible_through``): the customers read once per query."""
        if self.everyone:
            return Q()
        if self.compares:
            return visible_through(self.user, customer)
        return Q(**{f"{person}__in": self.team_ids})


# --- The items behind the figures ------------------------------------------------------------------------
#
# Each reader gives, per person, the figures' raw material. The drill-downs read the same querysets.


def milestones_in(scope: Scope, window: Window, filters) -> QuerySet[Milestone]:
    """First-value milestones reached in the window or due in it."""
    reached = Q(achieved_on__gte=window.first, achieved_on__lte=window.last)
    due = Q(target_date__gte=window.first, target_date__lte=window.last)
    return Milestone.objects.filter(
        scope.rows_q(customer="customer", person="customer__implementation_manager_id"),
        filters.rollup_q(prefix="customer__"),
        reached | due,
        kind=MilestoneKind.FIRST_VALUE,
    )


def handoffs_in(scope: Scope, window: Window, filters) -> QuerySet[Handoff]:
    """The handoffs held in the window, with ``first_success_target``: the earliest target of the customer's first
    success milestones (none: null), joined and grouped rather than read once per handoff."""
    # Only the first-success milestones joined (FilteredRelation: the kind in the join's ON), not every milestone
    # of the customer then filtered in the aggregate.
    first_success = FilteredRelation(
        "customer__milestones", condition=Q(customer__milestones__kind=MilestoneKind.FIRST_SUCCESS)
    )
    return (
        Handoff.objects.filter(
            scope.rows_q(customer="customer", person="to_user_id"),
            filters.rollup_q(prefix="customer__"),
            held_on__gte=window.first,
            held_on__lte=window.last,
        )
        .annotate(first_success=first_success)
        .annotate(first_success_target=Min("first_success__target_date"))
    )


def handoff_deadline(target: date | None, start: date, service_model: str, policies: dict) -> date | None:
    if target is not None:
        return target
    days = policies.get(service_model)
    return None if days is None else start + timedelta(days=days)


def overdue_reviews(window: Window) -> QuerySet[SuccessReview]:
    """Reviews overdue on the window's last day: due before it and not held by then (never a cancelled one)."""
    return SuccessReview.objects.filter(
        Q(held_on__isnull=True) | Q(held_on__gt=window.last), due_date__lt=window.last
    ).exclude(status=ReviewStatus.CANCELLED)


def has_overdue_review(window: Window) -> Exists:
    """Customers with a review overdue on the window's last day (``overdue_reviews``): one look-up of the customer's
    own reviews. Not two sets of every overdue review's customer: at half a million customers such a set outgrows
    PostgreSQL's ``work_mem``, and its unhashed form reads the whole set again for each customer."""
    return Exists(overdue_reviews(window).filter(customer_id=OuterRef("pk")))


def review_customers(scope: Scope, window: Window, filters, cadenced: list[str]) -> QuerySet[Customer]:
    """The customers in ongoing or UTI on the window's last day whose service model has a review cadence, with
    ``overdue``: a review due before that day and not held by then.

    The customers are read once, scoped on their own row (no second read of the customers for the door); ``overdue``
    looks up the customer's own reviews. The stage on that day reads the timeline only for the customers whose stage
    changed since (``in_stage_on``)."""
    if scope.everyone:
        customers = Customer.objects.all()
    elif scope.compares:
        customers = customers_visible_to(scope.user)
    else:
        customers = Customer.objects.filter(owner_id__in=scope.team_ids)
    customers = customers.filter(filters.rollup_q(), service_model__in=cadenced, start_date__lte=window.last)
    return in_stage_on(customers, window.last, REVIEW_STAGES).annotate(overdue=has_overdue_review(window))


def detractor_answers(scope: Scope, window: Window, filters) -> QuerySet[Response]:
    start, end = window.moments()
    return Response.objects.filter(
        scope.rows_q(customer="customer", person="csm_id"),
        filters.rollup_q(owner="csm_id"),
        scoring.detractor_q(),
        ~Q(kind=SurveyKind.ENPS),
        customer__isnull=False,
        answered_at__gte=start,
        answered_at__lt=end,
    )


def nps_answers(scope: Scope, window: Window, filters) -> QuerySet[Response]:
    start, end = window.moments()
    return Response.objects.filter(
        scope.rows_q(customer="customer", person="csm_id"),
        filters.rollup_q(owner="csm_id"),
        kind=SurveyKind.NPS,
        customer__isnull=False,
        answered_at__gte=start,
        answered_at__lt=end,
    )


def tasks_overdue(scope: Scope, window: Window, filters) -> QuerySet[Task]:
    """Tasks open on the window's last day (created by then, not done or cancelled before it) due before it."""
    _start, end = window.moments()
    still_open = Q(status=TaskStatus.OPEN) | Q(status=TaskStatus.DONE, completed_at__gte=end)
    return Task.objects.filter(
        scope.rows_q(customer="customer", person="owner_id"),
        filters.rollup_q(prefix="customer__"),
        still_open,
        due_date__lt=window.last,
        created_at__lt=end,
    )


def cadenced_models() -> dict[str, int]:
    """{service model: days to first success} and the models with a review cadence, in one query."""
    return {
        row["service_model"]: row
        for row in ServiceModelPolicy.objects.values("service_model", "first_success_days", "review_every_months")
    }


# --- Per person ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """One person's raw counts, added up for the total."""

    first_value_days: list[int] = field(default_factory=list)
    first_value_due: int = 0
    first_value_on_time: int = 0
    handoffs: int = 0
    handoffs_timed: int = 0
    handoffs_on_time: int = 0
    review_eligible: int = 0
    reviews_overdue: int = 0
    detractors: int = 0
    loop_days: list[Decimal] = field(default_factory=list)
    tasks_overdue: int = 0
    nps_scores: dict[int, int] = field(default_factory=dict)
    has_onboarding: bool = False
    has_cs: bool = False

    def add(self, other: "Tally") -> None:
        for name in ("first_value_days", "loop_days"):
            getattr(self, name).extend(getattr(other, name))
        for name in (
            "first_value_due", "first_value_on_time", "handoffs", "handoffs_timed", "handoffs_on_time",
            "review_eligible", "reviews_overdue", "detractors", "tasks_overdue",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for score, n in other.nps_scores.items():
            self.nps_scores[score] = self.nps_scores.get(score, 0) + n
        self.has_onboarding |= other.has_onboarding
        self.has_cs |= other.has_cs


def _median(values) -> Decimal | None:
    if not values:
        return None
    return Decimal(str(statistics.median(values)))


def _rate(key: str, numerator: int, denominator: int, why) -> Figure:
    value = ratio(numerator, denominator)
    return Figure(key, value, "rate", "" if value is not None else why)


def figures_of(t: Tally) -> dict[str, Figure]:
    days, loop = _median(t.first_value_days), _median(t.loop_days)
    nps = scoring.nps(t.nps_scores).score
    closed = len(t.loop_days)
    return {
        "first_value_reached": Figure("first_value_reached", len(t.first_value_days), "count"),
        "first_value_days": Figure("first_value_days", days, "days", "" if days is not None else NOTHING_REACHED),
        "first_value_due": Figure("first_value_due", t.first_value_due, "count"),
        "onboarding_on_time": _rate("onboarding_on_time", t.first_value_on_time, t.first_value_due, NOTHING_DUE),
        "handoffs": Figure("handoffs", t.handoffs, "count"),
        "handoffs_on_time": _rate("handoffs_on_time", t.handoffs_on_time, t.handoffs_timed, NO_HANDOFF),
        "review_eligible": Figure("review_eligible", t.review_eligible, "count"),
        "review_coverage": _rate(
            "review_coverage", t.review_eligible - t.reviews_overdue, t.review_eligible, NO_CADENCE
        ),
        "reviews_overdue": Figure("reviews_overdue", t.reviews_overdue, "count"),
        "detractors": Figure("detractors", t.detractors, "count"),
        "loops_closed": Figure("loops_closed", closed, "count"),
        "loops_open": Figure("loops_open", t.detractors - closed, "count"),
        "loop_days": Figure("loop_days", loop, "days", "" if loop is not None else NO_LOOP_CLOSED),
        "tasks_overdue": Figure("tasks_overdue", t.tasks_overdue, "count"),
        "nps": Figure("nps", nps, "score", "" if nps is not None else NO_NPS),
    }


@dataclass
class PersonRow:
    person_id: int | None
    name: str
    figures: dict[str, Figure]
    columns: tuple[str, ...]
    is_total: bool = False
    is_median: bool = False

    @property
    def cells(self) -> list[tuple[str, Figure]]:
        return [(key, self.figures[key]) for key in self.columns]

    @property
    def linked(self) -> list[tuple[str, Figure, str]]:
        """Each cell with the figure its number opens (``DRILLS``)."""
        return [(key, fig, COLUMN_DRILLS[key]) for key, fig in self.cells]


@dataclass
class Operations:
    period: Period
    as_of: date
    compares: bool
    ism_rows: list[PersonRow]
    csm_rows: list[PersonRow]
    ism_summary: PersonRow | None  # the total (those who compare) or the team's median
    csm_summary: PersonRow | None
    tallies: dict[int | None, Tally] = field(default_factory=dict)  # per CSM, for the per-CSM comparison
    counted_at: datetime | None = None  # when the closed months read from the tallies were counted (none read: None)


# The flow figures: what happened in the period, month by month; and the figures of its last day (the review coverage
# and the tasks overdue).
DAY_KINDS = (OperationsTally.Kind.REVIEW, OperationsTally.Kind.TASK_OVERDUE)
FLOW_KINDS = tuple(kind for kind in OperationsTally.Kind if kind not in DAY_KINDS)
ALL_KINDS = tuple(OperationsTally.Kind)
COMPARISON_KINDS = (OperationsTally.Kind.NPS, *DAY_KINDS)
ANSWER_KINDS = (OperationsTally.Kind.DETRACTOR, OperationsTally.Kind.NPS)


def _live_counts(scope: Scope, window: Window, filters, policies: dict, kinds, isms: dict, csms: dict) -> None:
    """The figures of ``kinds`` counted from the journey's rows, into ``isms`` and ``csms``: a query per kind's group
    (milestones, handoffs, detractor answers, NPS scores; the review coverage and the tasks overdue on the window's
    last day). The milestones and the answers come counted per person and value (the days to first value, the time a
    loop took), not one row each."""
    Kind = OperationsTally.Kind
    if Kind.FIRST_VALUE_REACHED in kinds:
        reached = Q(achieved_on__gte=window.first, achieved_on__lte=window.last)
        due = Q(target_date__gte=window.first, target_date__lte=window.last)
        rows = (
            milestones_in(scope, window, filters)
            .annotate(
                # Django's date subtraction, the same on PostgreSQL and SQLite (a raw "a - b" of two dates is a
                # number of days on the one and 0 on the other, which stores dates as text).
                took=Case(
                    When(reached, then=F("achieved_on") - F("customer__start_date")), output_field=DurationField()
                ),
                due=ExpressionWrapper(due, output_field=BooleanField()),
                on_time=ExpressionWrapper(due & Q(achieved_on__lte=F("target_date")), output_field=BooleanField()),
            )
            .values_list("customer__implementation_manager_id", "took", "due", "on_time")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for person, took, is_due, on_time, n in rows:
            t = isms[person]
            t.has_onboarding = True
            if took is not None:
                t.first_value_days.extend([took.days] * n)
            if is_due:
                t.first_value_due += n
                t.first_value_on_time += n if on_time else 0
    if Kind.HANDOFF in kinds:
        first_success = {model: row["first_success_days"] for model, row in policies.items()}
        for person, held, target, started, model in (
            handoffs_in(scope, window, filters)
            .values_list(
                "to_user_id", "held_on", "first_success_target", "customer__start_date", "customer__service_model"
            )
            .order_by()
        ):
            t = csms[person]
            t.has_cs, t.handoffs = True, t.handoffs + 1
            deadline = handoff_deadline(target, started, model, first_success)
            if deadline is not None:
                t.handoffs_timed += 1
                t.handoffs_on_time += held <= deadline
    if Kind.DETRACTOR in kinds:
        for person, loop, n in (
            detractor_answers(scope, window, filters)
            .annotate(took=LOOP_TOOK)
            .values_list("csm_id", "took")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            t = csms[person]
            t.has_cs, t.detractors = True, t.detractors + n
            if loop is not None:
                t.loop_days.extend([loop_days(loop)] * n)
    if Kind.NPS in kinds:
        for person, score, n in (
            nps_answers(scope, window, filters).values_list("csm_id", "score").annotate(n=Count("pk")).order_by()
        ):
            scores = csms[person].nps_scores
            scores[score] = scores.get(score, 0) + n
    if Kind.REVIEW in kinds:
        cadenced = [model for model, row in policies.items() if row["review_every_months"]]
        for person, n, overdue in (
            review_customers(scope, window, filters, cadenced)
            .values_list("owner_id")
            .annotate(n=Count("pk"), late=Count("pk", filter=Q(overdue=True)))
            .order_by()
        ):
            t = csms[person]
            t.has_cs, t.review_eligible, t.reviews_overdue = True, t.review_eligible + n, t.reviews_overdue + overdue
    if Kind.TASK_OVERDUE in kinds:
        for person, n in (
            tasks_overdue(scope, window, filters).values_list("owner_id").annotate(n=Count("pk")).order_by()
        ):
            t = csms[person]
            t.has_cs, t.tasks_overdue = True, t.tasks_overdue + n


LOOP_TOOK = ExpressionWrapper(F("loop_closed_at") - F("answered_at"), output_field=DurationField())


def loop_days(took: timedelta) -> Decimal:
    return Decimal(took.total_seconds()) / 86400


def _tally_door(scope: Scope) -> Q:
    """``Scope.rows_q`` on the tallies: the customer's people now (the door), or the person a row counts for."""
    if scope.everyone:
        return Q()
    if scope.compares:
        return visible_filter(scope.user, people=CUSTOMER_PEOPLE)
    return Q(person__in=scope.team_ids)


def tallied_counts(scope: Scope, window: Window, filters, kinds, isms: dict, csms: dict, *, last_day=True) -> None:
    """The figures of ``kinds`` for the whole months of ``window``, from the tallies (one query): the flow figures
    of every month, and when ``last_day`` the figures of the window's last day (those of its last month). The same
    raw counts as ``_live_counts``, which ``metrics_rebuild --check`` proves month by month."""
    Kind = OperationsTally.Kind
    months = Q(kind__in=[kind for kind in kinds if kind in FLOW_KINDS], month__gte=month_start(window.first))
    if last_day:
        months |= Q(kind__in=[kind for kind in kinds if kind in DAY_KINDS], month=month_start(window.last))
    customer_kinds = [kind for kind in kinds if kind not in ANSWER_KINDS]
    answer_kinds = [kind for kind in kinds if kind in ANSWER_KINDS]
    # The page's "CSM" filter: the customer's owner (milestones, handoffs, reviews, tasks), the answer's CSM.
    sliced = Q(kind__in=customer_kinds) & filters.rollup_q() | Q(kind__in=answer_kinds) & filters.rollup_q(
        owner="person_id"
    )
    rows = (
        OperationsTally.objects.filter(_tally_door(scope), sliced, months, month__lte=window.last)
        .values_list("kind", "person_id", "days", "score", "loop", "timed", "on_time", "overdue")
        .annotate(total=Sum("n"))
        .order_by()
    )
    for kind, person, days, score, loop, timed, on_time, overdue, n in rows:
        if kind in (Kind.FIRST_VALUE_REACHED, Kind.FIRST_VALUE_DUE):
            t = isms[person]
            t.has_onboarding = True
            if kind == Kind.FIRST_VALUE_REACHED:
                if days is not None:
                    t.first_value_days.extend([days] * n)
            else:
                t.first_value_due += n
                t.first_value_on_time += n if on_time else 0
        elif kind == Kind.HANDOFF:
            t = csms[person]
            t.has_cs, t.handoffs = True, t.handoffs + n
            t.handoffs_timed += n if timed else 0
            t.handoffs_on_time += n if on_time else 0
        elif kind == Kind.DETRACTOR:
            t = csms[person]
            t.has_cs, t.detractors = True, t.detractors + n
            if loop is not None:
                t.loop_days.extend([loop_days(loop)] * n)
        elif kind == Kind.REVIEW:
            t = csms[person]
            t.has_cs, t.review_eligible = True, t.review_eligible + n
            t.reviews_overdue += n if overdue else 0
        elif kind == Kind.TASK_OVERDUE:
            t = csms[person]
            t.has_cs, t.tasks_overdue = True, t.tasks_overdue + n
        else:
            scores = csms[person].nps_scores
            scores[score] = scores.get(score, 0) + n


def tallied_months(window: Window) -> tuple[Window | None, Window | None, OperationsTallyBuild | None]:
    """``window`` split into the whole months the tallies hold, if a fresh build holds any of them, and the rest,
    counted live (the running month always, and every month when the last build is too old). One query (the
    build), none when the window is the running month alone. And the build read."""
    if window.first >= month_start(clock.today()):
        return None, window, None
    build = OperationsTallyBuild.fresh()
    if build is None:
        return None, window, None
    until = operations_tallies_until(build)
    if window.first >= until:
        return None, window, build
    if window.last < until:
        return window, None, build
    return Window(window.first, until - timedelta(days=1)), Window(until, window.last), build


def operations_tallies_until(build: "OperationsTallyBuild") -> date:
    """The first month a build does not hold: the month it was built in (then running, so counted live)."""
    return month_start(timezone.localdate(build.built_at))


def counted(scope: Scope, window: Window, filters, policies: dict, kinds=ALL_KINDS, *, tallies: bool = True):
    """{ISM: Tally} and {CSM: Tally} of the figures of ``kinds``, and when the tallies read were counted (None: all
    live): the closed months from the tallies when ``tallies`` and a fresh build holds them (the build and one
    query), the rest live (a query per kind; the running month's day figures are today's)."""
    isms: dict[int | None, Tally] = defaultdict(Tally)
    csms: dict[int | None, Tally] = defaultdict(Tally)
    tallied, live, build = tallied_months(window) if tallies else (None, window, None)
    if tallied is not None:
        tallied_counts(scope, tallied, filters, kinds, isms, csms, last_day=live is None)
    if live is not None:
        _live_counts(scope, live, filters, policies, kinds, isms, csms)
    return isms, csms, build.built_at if tallied is not None else None


def _tallies(scope: Scope, window: Window, filters, *, comparison_only: bool = False) -> tuple[dict, dict, object]:
    """{ISM: Tally}, {CSM: Tally} and when the closed months read were counted: the policies, then every figure
    (``counted``). ``comparison_only``: only what the per-CSM comparison gains (reviews overdue, tasks overdue,
    NPS)."""
    policies = cadenced_models()
    isms, csms, at = counted(scope, window, filters, policies, COMPARISON_KINDS if comparison_only else ALL_KINDS)
    return dict(isms), dict(csms), at


def _team_median(rows: list[dict[str, Figure]], columns: tuple[str, ...]) -> dict[str, Figure]:
    result = {}
    for key in columns:
        values = [r[key].value for r in rows if r[key].value is not None]
        value = _median(values)
        unit = rows[0][key].unit if rows else "count"
        result[key] = Figure(key, value, unit, "" if values else NO_TEAM)
    return result


def _total(tallies: dict) -> Tally:
    total = Tally()
    for t in tallies.values():
        total.add(t)
    return total


def cs_operations(user: User, period: Period, filters) -> Operations:
    """The CS operations of ``period`` for ``user``: a row per ISM and per CSM with the total (those who compare),
    or the user's own rows against their team's median. Eight queries at most, whatever the number of customers."""
    scope = Scope.of(user)
    window = Window.of(period)
    isms, csms, counted_at = _tallies(scope, window, filters)
    people = {
        u.pk: u
        for u in User.objects.filter(pk__in=[pk for pk in {*isms, *csms} if pk is not None]).only(
            "full_name", "role", "team_id"
        )
    }

    def name(pk):
        return people[pk].full_name if pk in people else ""

    if scope.compares:
        ism_rows = [PersonRow(pk, name(pk), figures_of(t), ISM_COLUMNS) for pk, t in isms.items() if t.has_onboarding]
        csm_rows = [PersonRow(pk, name(pk), figures_of(t), CSM_COLUMNS) for pk, t in csms.items() if t.has_cs]
        by_name = lambda row: (row.person_id is None, row.name, row.person_id or 0)  # noqa: E731
        ism_rows.sort(key=by_name)
        csm_rows.sort(key=by_name)
        ism_total = PersonRow(None, "", figures_of(_total(isms)), ISM_COLUMNS, is_total=True) if ism_rows else None
        csm_total = PersonRow(None, "", figures_of(_total(csms)), CSM_COLUMNS, is_total=True) if csm_rows else None
        return Operations(period, window.last, True, ism_rows, csm_rows, ism_total, csm_total, csms, counted_at)
    own_ism, own_csm = isms.get(user.pk, Tally()), csms.get(user.pk, Tally())
    team_isms = [figures_of(t) for pk, t in isms.items() if pk in people and people[pk].role == Role.ISM]
    team_csms = [figures_of(t) for pk, t in csms.items() if pk in people and people[pk].role in OWNER_ROLES]
    is_ism = user.role == Role.ISM
    ism_rows = [PersonRow(user.pk, user.full_name, figures_of(own_ism), ISM_COLUMNS)] if is_ism else []
    csm_rows = [] if is_ism else [PersonRow(user.pk, user.full_name, figures_of(own_csm), CSM_COLUMNS)]
    return Operations(
        period,
        window.last,
        False,
        ism_rows,
        csm_rows,
        PersonRow(None, "", _team_median(team_isms, ISM_COLUMNS), ISM_COLUMNS, is_median=True) if is_ism else None,
        None if is_ism else PersonRow(None, "", _team_median(team_csms, MEDIAN_COLUMNS), CSM_COLUMNS, is_median=True),
        {user.pk: own_csm},
        counted_at,
    )


def comparison_operations(user: User, period: Period, filters) -> Operations:
    """What the per-CSM comparison gains (``extend_comparison``): for those who compare, only its three figures'
    queries (four in all: no onboarding, handoffs, loops nor names, which its rows and total never show); anyone
    else reads ``cs_operations`` whole, since their team's median counts everyone with a CS figure."""
    scope = Scope.of(user)
    if not scope.compares:
        return cs_operations(user, period, filters)
    window = Window.of(period)
    _isms, csms, counted_at = _tallies(scope, window, filters, comparison_only=True)
    return Operations(period, window.last, True, [], [], None, None, csms, counted_at)


def extend_comparison(comparison, ops: Operations) -> None:
    """The per-CSM comparison gains NPS, reviews overdue and tasks overdue (by the CSM now, the task's owner, the
    answer's CSM), on its rows, its total and its median."""
    for row in comparison.rows:
        figures = figures_of(ops.tallies.get(row.owner_id, Tally()))
        row.figures.update({key: figures[key] for key in COMPARISON_COLUMNS})
    if comparison.total is not None:
        figures = figures_of(_total(ops.tallies))
        comparison.total.figures.update({key: figures[key] for key in COMPARISON_COLUMNS})
    if comparison.median is not None:
        summary = ops.csm_summary.figures if ops.csm_summary is not None else {}
        comparison.median.figures.update(
            {key: summary.get(key) or Figure(key, None, "count", NO_TEAM) for key in COMPARISON_COLUMNS}
        )


# --- The customers behind a figure -----------------------------------------------------------------------

DRILLS = {
    "first_value_reached": "isms",
    "first_value_due": "isms",
    "onboarding_late": "isms",
    "handoffs": "csms",
    "handoffs_late": "csms",
    "review_eligible": "csms",
    "reviews_overdue": "csms",
    "detractors": "csms",
    "loops_open": "csms",
    "tasks_overdue": "csms",
}
DRILL_LABELS = {
    **LABELS,
    "onboarding_late": _("First value late"),
    "handoffs_late": _("Handoffs late"),
}
DRILL_PAGE_SIZE = 50


@dataclass
class OpsItem:
    customer_id: int
    when: date | None  # the day the row is about (reached, due, held, answered…)
    detail: str
    late: bool | None = None


@dataclass
class OpsPage(Paged):
    figure: str
    rows: list[tuple[Customer, OpsItem]]
    count: int
    number: int
    per_page: int


def _day(day: date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _items(figure: str, scope: Scope, window: Window, filters, person: int | None) -> list[OpsItem]:
    def mine(path: str) -> Q:
        return Q(**{path: person}) if person is not None else Q()

    if figure in ("first_value_reached", "first_value_due", "onboarding_late"):
        rows = milestones_in(scope, window, filters).filter(mine("customer__implementation_manager_id"))
        items = []
        for cid, target, achieved, started in rows.values_list(
            "customer_id", "target_date", "achieved_on", "customer__start_date"
        ):
            reached = achieved is not None and window.first <= achieved <= window.last
            due = window.first <= target <= window.last
            late = achieved is None or achieved > target
            if figure == "first_value_reached" and reached:
                items.append(
                    OpsItem(cid, achieved, _("%(days)s days after the start") % {"days": (achieved - started).days})
                )
            elif figure != "first_value_reached" and due and (figure == "first_value_due" or late):
                text = _("not reached yet") if achieved is None else _("reached on %(day)s") % {"day": _day(achieved)}
                items.append(OpsItem(cid, target, text, late))
        return items
    if figure in ("handoffs", "handoffs_late"):
        policies = {m: row["first_success_days"] for m, row in cadenced_models().items()}
        items = []
        for cid, held, target, started, model in (
            handoffs_in(scope, window, filters)
            .filter(mine("to_user_id"))
            .values_list(
                "customer_id", "held_on", "first_success_target", "customer__start_date", "customer__service_model"
            )
        ):
            deadline = handoff_deadline(target, started, model, policies)
            late = None if deadline is None else held > deadline
            if figure == "handoffs" or late:
                text = "" if deadline is None else _("first success due on %(day)s") % {"day": _day(deadline)}
                items.append(OpsItem(cid, held, text, late))
        return items
    if figure in ("review_eligible", "reviews_overdue"):
        cadenced = [m for m, row in cadenced_models().items() if row["review_every_months"]]
        rows = review_customers(scope, window, filters, cadenced).filter(mine("owner_id"))
        if figure == "reviews_overdue":
            rows = rows.filter(overdue=True)
        first_due = overdue_reviews(window).filter(customer_id=OuterRef("pk"))
        rows = rows.annotate(due=first_due.order_by("due_date").values("due_date")[:1])
        return [
            OpsItem(cid, due, _("review due on %(day)s") % {"day": _day(due)} if due else "", bool(overdue))
            for cid, due, overdue in rows.values_list("pk", "due", "overdue")
        ]
    if figure in ("detractors", "loops_open"):
        rows = detractor_answers(scope, window, filters).filter(mine("csm_id"))
        if figure == "loops_open":
            rows = rows.filter(loop_closed_at__isnull=True)
        items = []
        for cid, kind, score, answered, closed in rows.values_list(
            "customer_id", "kind", "score", "answered_at", "loop_closed_at"
        ):
            text = f"{SurveyKind(kind).label} {score}"
            if closed is not None:
                text += " · " + str(_("loop closed on %(day)s") % {"day": _day(timezone.localdate(closed))})
            items.append(OpsItem(cid, timezone.localdate(answered), text, closed is None))
        return items
    rows = tasks_overdue(scope, window, filters).filter(mine("owner_id"))
    return [OpsItem(cid, due, title, True) for cid, due, title in rows.values_list("customer_id", "due_date", "title")]


def operations_drilldown(
    user: User, period: Period, filters, figure: str, *, person: int | None = None, page: int = 1, per_page: int = 0
) -> OpsPage:
    """The customers behind one CS operations figure (of one person, or of everyone the user reads), by name.
    The door applies to the customers; anyone who does not compare CSMs reads only their own (``person`` is then
    always themselves). Three queries: the rows, the customers' names, the page's customers."""
    scope = Scope(user, True)
    if not sees_every_person(user):
        person = user.pk
    items = _items(figure, scope, Window.of(period), filters, person)
    names = dict(Customer.objects.filter(pk__in={i.customer_id for i in items}).values_list("pk", "name"))
    items.sort(key=lambda i: (names.get(i.customer_id, ""), i.customer_id, i.when or date.min))
    per_page = per_page or DRILL_PAGE_SIZE
    page = max(1, page)
    if (page - 1) * per_page >= len(items):
        page = 1
    chosen = items[(page - 1) * per_page : page * per_page]
    found = Customer.objects.select_related("owner", "implementation_manager").in_bulk([i.customer_id for i in chosen])
    return OpsPage(
        figure=figure,
        rows=[(found[i.customer_id], i) for i in chosen if i.customer_id in found],
        count=len(items),
        number=page,
        per_page=per_page,
    )
