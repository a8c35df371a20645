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

from django.db.models import Case, CharField, Exists, F, OuterRef, QuerySet, Subquery, When
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import clock
from portfolio.models import Activity, ActivityKind, Customer


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())


def _changes() -> QuerySet[Activity]:
    return Activity.objects.filter(kind=ActivityKind.STAGE_CHANGE, data__has_key="to")


def _logs_a_change() -> Exists:
    """Whether the customer's timeline logs a stage change with its stages: one probe of the partial index of those
    changes (``portfolio_activity_stage_chg``), per customer that gets this far. Not ``pk IN (every customer that
    logs one)``: that set grows with the workspace, and once it no longer fits in PostgreSQL's ``work_mem`` its
    hashed form gives way to a scan of the whole set for each customer."""
    return Exists(_changes().filter(customer_id=OuterRef("pk")))


def _stage_then(until: datetime) -> Coalesce:
    """The stage a customer that logs its changes had at ``until`` (before its next change): the ``to`` of its last
    change before, else the ``from`` of its first change after, else the stage it has now. Two correlated reads."""
    mine = _changes().filter(customer_id=OuterRef("pk"))
    last_before = mine.filter(happened_at__lt=until).order_by("-happened_at", "-pk").values(stage=KT("data__to"))
    first_after = mine.filter(happened_at__gte=until).order_by("happened_at", "pk").values(stage=KT("data__from"))
    return Coalesce(Subquery(last_before[:1]), Subquery(first_after[:1]), F("stage"), output_field=CharField())


def stage_on(customers: QuerySet[Customer], day: date) -> QuerySet[Customer]:
    """``customers`` annotated with ``stage_on_day``: the stage each had at the end of ``day``.

    The correlated reads of the customer's stage changes run only for customers whose stage changed after ``day``
    and whose timeline logs a change at all (the others keep the stage they have now: both reads would be empty);
    filter on the annotation (``stage_on_day__in=...``) as on a column.
    """
    until = _end_of(day)
    return customers.annotate(
        stage_on_day=Case(
            When(stage_changed_at__lt=until, then=F("stage")),
            When(~_logs_a_change(), then=F("stage")),
            default=_stage_then(until),
            output_field=CharField(),
        )
    )


def in_stage_on(customers: QuerySet[Customer], day: date, stages: Iterable[str]) -> QuerySet[Customer]:
    """``customers`` that were in one of ``stages`` at the end of ``day``, as ``stage_on`` reads it, as a filter.

    One pass over ``customers``, on their own rows: a customer whose stage has not changed since ``day`` is judged by
    the stage it has now, with no read of its timeline; one whose stage changed since costs a look-up of whether its
    timeline logs changes, and, when it does, the reads of ``stage_on``. Every condition on ``customers`` (the door,
    the slice, a start date) applies to the same rows, so a month long past reads the timelines of the customers
    that existed then, not of every customer that has moved since (they were a subquery of their own, and a set of
    ids the size of the workspace: see ``_logs_a_change``)."""
    stages = list(stages)
    if day >= clock.today():
        # The day is not over: the stage each customer has now is the one it has on it (no timeline to read, and no
        # set of the customers that log a change: the running month's figures read every customer once).
        return customers.filter(stage__in=stages)
    return stage_on(customers, day).filter(stage_on_day__in=stages)
