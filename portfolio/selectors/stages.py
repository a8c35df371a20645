"""The stage a customer had on a past day, read from its timeline.

Every stage change goes through ``portfolio.services.customers._stage_change``, which sets ``stage_changed_at`` and
logs a "stage" activity with ``data = {"from": …, "to": …}``. So, on ``day``:

* a customer whose last change is on or before ``day`` (``stage_changed_at``) has the stage it has now;
* otherwise, the ``to`` of its last logged change on or before ``day``;
* otherwise (no change logged by then), the ``from`` of its first change after ``day``: the stage it started in;
* otherwise (no change logged with its stages, as older imported timelines), the stage it has now.

Today (or a later day) is not over: the stage each customer has now is its stage on it.

Days are the workspace's days: "on ``day``" is up to the end of that day in the current time zone.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import Case, CharField, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import clock
from portfolio.models import Activity, ActivityKind, Customer


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())


def stage_on(customers: QuerySet[Customer], day: date) -> QuerySet[Customer]:
    """``customers`` annotated with ``stage_on_day``: the stage each had at the end of ``day``.

    Two correlated reads of the customer's stage changes, only for customers whose stage changed after ``day``
    and whose timeline logs a change at all (the others keep the stage they have now: both reads would be empty);
    filter on the annotation (``stage_on_day__in=...``) as on a column. Which customers log a change is one set,
    read once (hashed), so a customer without one costs no correlated read.
    """
    until = _end_of(day)
    changes = Activity.objects.filter(kind=ActivityKind.STAGE_CHANGE, data__has_key="to")
    mine = changes.filter(customer_id=OuterRef("pk"))
    last_before = mine.filter(happened_at__lt=until).order_by("-happened_at", "-pk").values(stage=KT("data__to"))
    first_after = mine.filter(happened_at__gte=until).order_by("happened_at", "pk").values(stage=KT("data__from"))
    return customers.annotate(
        stage_on_day=Case(
            When(stage_changed_at__lt=until, then=F("stage")),
            When(~Q(pk__in=changes.values("customer_id").order_by()), then=F("stage")),
            default=Coalesce(Subquery(last_before[:1]), Subquery(first_after[:1]), F("stage")),
            output_field=CharField(),
        )
    )


def in_stage_on(customers: QuerySet[Customer], day: date, stages: Iterable[str]) -> QuerySet[Customer]:
    """``customers`` that were in one of ``stages`` at the end of ``day``, as ``stage_on`` reads it, as a filter.

    The same three cases as ``stage_on``, split so the timeline's correlated reads run only inside a subquery of
    the customers whose stage changed after ``day`` (read by ``stage_changed_at``'s index): the others are in
    ``stages`` by the stage they have now. So the planner costs those reads for those few customers only, not
    for every customer of the query (which, over tens of thousands, priced the query high enough for PostgreSQL
    to compile it first: a few hundred milliseconds of JIT for a query that runs in tens)."""
    stages = list(stages)
    if day >= clock.today():
        # The day is not over: the stage each customer has now is the one it has on it (no timeline to read, and no
        # set of the customers that log a change: the running month's figures read every customer once).
        return customers.filter(stage__in=stages)
    until = _end_of(day)
    logging = Activity.objects.filter(kind=ActivityKind.STAGE_CHANGE, data__has_key="to").values("customer_id")
    moved = Customer.objects.filter(stage_changed_at__gte=until, pk__in=logging.order_by())
    moved_in = stage_on(moved, day).filter(stage_on_day__in=stages).values("pk")
    unchanged = Q(stage_changed_at__lt=until) | ~Q(pk__in=logging.order_by())
    return customers.filter((Q(stage__in=stages) & unchanged) | Q(pk__in=moved_in))
