"""The CS operations' figures of closed months, counted ahead of time.

A leader's CS operations for a year or a trailing twelve months would otherwise read a year of first-value milestones,
handoffs (each with its customer's first-success target) and survey answers joined to their customers, and the stage and
reviews of every customer on the period's last day, on every view. ``rebuild`` counts them into ``OperationsTally`` per
month, kind, person, the customer's people now (the door) and the slice, with the values the figures need exactly (the
days each first value took, whether each was on time, the time each detractor loop took to close, each NPS score), and,
for each month's last day, the customers with a review cadence (overdue or not) and the tasks overdue: the medians and
rates come out the same as counted live. ``metrics.operations`` reads the months before the build's month from them
while the build is fresh (``LEME_OPERATIONS_TALLIES_MAX_AGE``), and counts the running month, and every month when the
beat has stopped, live.

The beat rebuilds them every ten minutes, so what changes a closed month's figures (a customer moved to another CSM,
ISM or segment, an answer's loop closed, a milestone's date corrected, a service model's days to first success) shows
within minutes; ``metrics_rebuild`` rebuilds them with the rollups and ``metrics_rebuild --check`` proves, month by
month, for the workspace and each segment, service model and plan, that they give what the live count gives.

The rebuild replaces every row in one transaction: readers see the previous build until it commits.
"""

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.db.models import BooleanField, Count, DateField, ExpressionWrapper, F, Min, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core import clock
from core.batches import bulk_create_in_batches
from metrics import operations
from metrics.models import OperationsTally, OperationsTallyBuild
from metrics.selectors import MetricsFilters
from portfolio.ledger import add_months, month_start
from portfolio.models import Customer, PlanTier, Segment, ServiceModel
from portfolio.selectors import CUSTOMER_PEOPLE

logger = logging.getLogger(__name__)

Kind = OperationsTally.Kind
_BATCH = 5000
_EPOCH = date(1970, 1, 1)
# The door (the customer's people now) and the slice, as a row's own columns (a customer, an answer) or through
# its customer (a milestone, a handoff, a task).
_PEOPLE = tuple(f"{person}_id" for person in CUSTOMER_PEOPLE)
_DOOR = tuple(f"customer__{column}" for column in _PEOPLE)
_SLICE = ("segment", "service_model", "plan_tier")
_CUSTOMER_SLICE = tuple(f"customer__{column}" for column in _SLICE)


def _everyone() -> operations.Scope:
    return operations.Scope(user=None, compares=True, everyone=True)


def _month(name: str, *, local: bool = False) -> TruncMonth:
    zone = timezone.get_current_timezone() if local else None
    return TruncMonth(name, output_field=DateField(), tzinfo=zone)


def _tally(kind: str, month: date, person, door: tuple, slice_: tuple, n: int, **values) -> OperationsTally:
    owner, ism, farmer = door
    segment, service_model, plan_tier = slice_
    return OperationsTally(
        month=month, kind=kind, person_id=person, owner_id=owner, implementation_manager_id=ism, farmer_id=farmer,
        segment=segment or "", service_model=service_model or "", plan_tier=plan_tier or "", n=n, **values,
    )  # fmt: skip


def _milestone_rows(closed: operations.Window):
    filters = MetricsFilters()
    milestones = operations.milestones_in(_everyone(), closed, filters)
    reached = (
        milestones.filter(achieved_on__gte=closed.first, achieved_on__lte=closed.last)
        .annotate(month=_month("achieved_on"), took=F("achieved_on") - F("customer__start_date"))
        .values_list("month", "customer__implementation_manager_id", *_DOOR, *_CUSTOMER_SLICE, "took")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for month, person, *keys, took, n in reached.iterator(chunk_size=_BATCH):
        yield _tally(Kind.FIRST_VALUE_REACHED, month, person, keys[:3], keys[3:], n, days=took.days)
    on_time = ExpressionWrapper(Q(achieved_on__lte=F("target_date")), output_field=BooleanField())
    due = (
        milestones.filter(target_date__gte=closed.first, target_date__lte=closed.last)
        .annotate(month=_month("target_date"), in_time=on_time)
        .values_list("month", "customer__implementation_manager_id", *_DOOR, *_CUSTOMER_SLICE, "in_time")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for month, person, *keys, in_time, n in due.iterator(chunk_size=_BATCH):
        yield _tally(Kind.FIRST_VALUE_DUE, month, person, keys[:3], keys[3:], n, on_time=bool(in_time))


def _handoff_rows(closed: operations.Window):
    first_success = {model: row["first_success_days"] for model, row in operations.cadenced_models().items()}
    counted: Counter = Counter()
    rows = operations.handoffs_in(_everyone(), closed, MetricsFilters()).values_list(
        "held_on", "to_user_id", *_DOOR, *_CUSTOMER_SLICE, "first_success_target", "customer__start_date",
        "customer__service_model",
    )  # fmt: skip
    for held, person, *keys, target, started, model in rows.order_by().iterator(chunk_size=_BATCH):
        deadline = operations.handoff_deadline(target, started, model, first_success)
        timed = deadline is not None
        counted[(month_start(held), person, *keys, timed, timed and held <= deadline)] += 1
    for (month, person, *keys, timed, on_time), n in counted.items():
        yield _tally(Kind.HANDOFF, month, person, keys[:3], keys[3:], n, timed=timed, on_time=on_time)


def _answer_rows(closed: operations.Window):
    filters = MetricsFilters()
    detractors = (
        operations.detractor_answers(_everyone(), closed, filters)
        .annotate(month=_month("answered_at", local=True), took=operations.LOOP_TOOK)
        .values_list("month", "csm_id", *_DOOR, *_SLICE, "took")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for month, person, *keys, took, n in detractors.iterator(chunk_size=_BATCH):
        yield _tally(Kind.DETRACTOR, month, person, keys[:3], keys[3:], n, loop=took)
    scores = (
        operations.nps_answers(_everyone(), closed, filters)
        .annotate(month=_month("answered_at", local=True))
        .values_list("month", "csm_id", *_DOOR, *_SLICE, "score")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for month, person, *keys, score, n in scores.iterator(chunk_size=_BATCH):
        yield _tally(Kind.NPS, month, person, keys[:3], keys[3:], n, score=score)


def _day_rows(closed: operations.Window):
    """The figures of each closed month's last day: the customers with a review cadence (overdue or not) by their
    CSM now, and the tasks overdue by their owner. Two queries a month."""
    filters = MetricsFilters()
    cadenced = [model for model, row in operations.cadenced_models().items() if row["review_every_months"]]
    first = Customer.objects.aggregate(first=Min("start_date"))["first"]
    if first is None:
        return
    month = month_start(max(first, closed.first))
    while month <= closed.last:
        day = operations.Window(month, add_months(month, 1) - timedelta(days=1))
        reviews = (
            operations.review_customers(_everyone(), day, filters, cadenced)
            .values_list("owner_id", *_PEOPLE, *_SLICE, "overdue")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for person, *keys, overdue, n in reviews:
            yield _tally(Kind.REVIEW, month, person, keys[:3], keys[3:], n, overdue=bool(overdue))
        tasks = (
            operations.tasks_overdue(_everyone(), day, filters)
            .values_list("owner_id", *_DOOR, *_CUSTOMER_SLICE)
            .annotate(n=Count("pk"))
            .order_by()
        )
        for person, *keys, n in tasks:
            yield _tally(Kind.TASK_OVERDUE, month, person, keys[:3], keys[3:], n)
        month = add_months(month, 1)


def _write(rows) -> int:
    return bulk_create_in_batches(OperationsTally, rows, _BATCH)


def rebuild(*, now=None) -> dict:
    """Count every closed month's flow figures again, replacing the last build at once."""
    started = time.monotonic()
    now = now or clock.now()
    # The months before the build's own (``operations.operations_tallies_until``): the running one is read live.
    closed = operations.Window(_EPOCH, month_start(timezone.localdate(now)) - timedelta(days=1))
    with transaction.atomic():
        OperationsTally.objects.all().delete()
        written = _write(_milestone_rows(closed))
        written += _write(_handoff_rows(closed))
        written += _write(_answer_rows(closed))
        written += _write(_day_rows(closed))
        seconds = round(time.monotonic() - started, 3)
        OperationsTallyBuild.objects.update_or_create(pk=1, defaults={"built_at": now, "seconds": seconds})
    logger.info("operations tallies rebuilt", extra={"rows": written, "seconds": seconds})
    return {"rows": written, "seconds": seconds}


# --- The check: the tallies against the live count -----------------------------------------------------------


@dataclass
class CheckReport:
    months: int = 0
    slices: int = 0
    problems: list[str] = field(default_factory=list)


def _raw(tallies: dict) -> dict:
    """What a person's figures are made of, comparable whatever order the values came in."""
    return {
        person: (
            sorted(t.first_value_days),
            t.first_value_due,
            t.first_value_on_time,
            t.handoffs,
            t.handoffs_timed,
            t.handoffs_on_time,
            t.detractors,
            sorted(t.loop_days),
            {s: n for s, n in t.nps_scores.items() if n},
            t.review_eligible,
            t.reviews_overdue,
            t.tasks_overdue,
            t.has_onboarding,
            t.has_cs,
        )
        for person, t in tallies.items()
    }


def check_slices() -> list[MetricsFilters]:
    """The workspace, then each segment, service model and plan on its own."""
    return [
        MetricsFilters(),
        *(MetricsFilters(segment=value) for value in Segment.values),
        *(MetricsFilters(service_model=value) for value in ServiceModel.values),
        *(MetricsFilters(plan_tier=value) for value in PlanTier.values),
    ]


def check() -> CheckReport:
    """Every month the last build holds, for the workspace and each slice: the figures read from the tallies equal
    the figures counted live from the journey's rows. Writes nothing."""
    report = CheckReport()
    build = OperationsTallyBuild.objects.filter(pk=1).first()
    if build is None:  # never built: every page counts live, there is nothing to compare
        return report
    until = operations.operations_tallies_until(build)
    first = OperationsTally.objects.order_by("month").values_list("month", flat=True).first()
    if first is None:
        first = until
    policies = operations.cadenced_models()
    scope = _everyone()
    month = first
    while month < until:
        window = operations.Window(month, add_months(month, 1) - timedelta(days=1))
        report.months += 1
        for filters in check_slices():
            report.slices += 1
            tallied = _tallied_raw(scope, window, filters)
            live_isms, live_csms, _at = operations.counted(scope, window, filters, policies, tallies=False)
            if tallied != (_raw(live_isms), _raw(live_csms)):
                report.problems.append(f"{month:%Y-%m} {filters}: the tallies differ from the live count")
        month = add_months(month, 1)
    # Before the first tallied month (every month, when the build counted nothing) the live count must be empty too.
    if first > _EPOCH:
        earlier = operations.Window(_EPOCH, first - timedelta(days=1))
        isms, csms, _at = operations.counted(
            scope, earlier, MetricsFilters(), policies, operations.FLOW_KINDS, tallies=False
        )
        if isms or csms:
            report.problems.append(f"the live count has figures before {first:%Y-%m}, the tallies none")
    return report


def _tallied_raw(scope, window, filters) -> tuple[dict, dict]:
    isms: dict = defaultdict(operations.Tally)
    csms: dict = defaultdict(operations.Tally)
    operations.tallied_counts(scope, window, filters, operations.ALL_KINDS, isms, csms)
    return _raw(isms), _raw(csms)
