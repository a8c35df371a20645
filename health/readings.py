"""Every customer's raw value of every measure on one day, read set-based: one aggregate query per measure
over usage rows, the timeline, contacts, survey answers, subscriptions and milestones, each returning
``{customer_id: Reading}``. No query per customer.

Each reading takes ``between``, a range of customer ids (first, last, both included): the nightly run reads its
customers a chunk at a time (``health.services.CHUNK_SIZE``), and each aggregate then reads only that chunk's rows,
through the index on the table's customer (``None``: every customer's).

The definitions of the measures are in ``health.measures``. Plain ORM aggregates, so the same code runs on
PostgreSQL and on the embedded SQLite run.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, IntegerField, Max, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from health.models import UsageDay
from portfolio.models import (
    RUNNING_STATUSES,
    Activity,
    ActivityKind,
    Contact,
    ContactRole,
    Milestone,
    Subscription,
    SubscriptionStatus,
)
from surveys.models import ChiAssessment, Response, SurveyKind
from surveys.scoring import scale_for
from surveys.selectors_chi import combine_chi

from .measures import Reading

WINDOW = 30
MEANINGFUL_TOUCHES = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.REVIEW)
SURVEY_KINDS = (SurveyKind.NPS, SurveyKind.CSAT, SurveyKind.CES)

Readings = dict[str, dict[int, Reading]]
Between = tuple[int, int] | None  # customer ids, first and last included; None: every customer


def _of(rows, between: Between):
    """``rows`` of the customers in ``between`` only."""
    return rows if between is None else rows.filter(customer_id__gte=between[0], customer_id__lte=between[1])


def end_of(day: date) -> datetime:
    """The first moment after ``day`` in the workspace's time zone."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def depth_key(key_events) -> str:
    """Where ``usage`` puts the depth measure counted over only these key events (every event: ``depth``)."""
    return "depth:" + "\n".join(key_events) if key_events else "depth"


def _key_event_count(names: tuple[str, ...]):
    """The events of a ``UsageDay`` row whose name is one of ``names`` (exactly), in SQL."""
    total = None
    for name in names:
        count = Coalesce(Cast(KeyTextTransform(name, "events_by_name"), IntegerField()), Value(0))
        total = count if total is None else total + count
    return total


def usage(
    day: date,
    customers: Iterable[int],
    licence_counts: dict[int, int | None],
    *,
    lookback: int,
    key_event_sets: Iterable[tuple[str, ...]] = (),
    between: Between = None,
) -> Readings:
    """The four usage measures from ``UsageDay``: one aggregate over the rows of the ``lookback`` days up to
    ``day``, and one query for the customers whose only rows are older (their data is stale, not absent).

    For each set of key events (a profile version's ``key_events``), the depth measure counted over only those
    events too, under ``depth_key(names)``, from the rows' ``events_by_name`` in the same aggregate."""
    key_event_sets = sorted({tuple(names) for names in key_event_sets if names})
    key_sums = {
        f"key_{n}": Sum(_key_event_count(names), filter=Q(day__gte=start_of_window(day)))
        for n, names in enumerate(key_event_sets)
    }
    start = start_of_window(day)
    before = start - timedelta(days=WINDOW)
    since = day - timedelta(days=max(lookback, 2 * WINDOW) - 1)
    rows = (
        _of(UsageDay.objects.filter(day__gte=since, day__lte=day), between)
        .values("customer_id")
        .annotate(
            last=Max("day"),
            users=Sum("active_users", filter=Q(day__gte=start)),
            events=Sum("events", filter=Q(day__gte=start)),
            active_days=Count("pk", filter=Q(day__gte=start, active_users__gt=0)),
            users_before=Sum("active_users", filter=Q(day__gte=before, day__lt=start)),
            **key_sums,
        )
        .order_by()
    )
    by_customer = {row["customer_id"]: row for row in rows}
    # Customers whose latest row is older than the window: their data is stale, not absent.
    older = dict(
        UsageDay.objects.filter(day__lt=since, customer_id__in=[c for c in customers if c not in by_customer])
        .values("customer_id")
        .annotate(last=Max("day"))
        .order_by()
        .values_list("customer_id", "last")
    )
    out: Readings = {"adoption": {}, "depth": {}, "trend": {}, "engagement": {}}
    out.update({depth_key(names): {} for names in key_event_sets})
    for customer_id in customers:
        row = by_customer.get(customer_id)
        if row is None:
            if customer_id in older:
                for key in out:
                    out[key][customer_id] = Reading(None, as_of=older[customer_id])
            continue
        as_of = row["last"]
        users = row["users"] or 0
        events = row["events"] or 0
        mean_users = users / WINDOW
        seats = licence_counts.get(customer_id)
        out["adoption"][customer_id] = Reading(
            round(100 * mean_users / seats, 2) if seats else None,
            as_of=as_of,
            facts={"users": round(mean_users, 1), "licences": seats},
        )
        out["depth"][customer_id] = Reading(round(events / users, 2) if users else None, as_of=as_of)
        for n, names in enumerate(key_event_sets):
            counted = row[f"key_{n}"] or 0
            out[depth_key(names)][customer_id] = Reading(
                round(counted / users, 2) if users else None,
                as_of=as_of,
                facts={"events": counted, "users": users, "key_events": list(names)},
            )
        before_users = row["users_before"]
        out["trend"][customer_id] = Reading(
            round(100 * (users - before_users) / before_users, 1) if before_users else None,
            as_of=as_of,
            facts={"users": users, "users_before": before_users},
        )
        out["engagement"][customer_id] = Reading(float(row["active_days"]), as_of=as_of)
    return out


def start_of_window(day: date) -> date:
    """The first day of the 30 days up to ``day``."""
    return day - timedelta(days=WINDOW - 1)


def relationship(day: date, start_dates: dict[int, date], *, between: Between = None) -> dict[int, Reading]:
    """Days since the last call, meeting or success review up to ``day``; since the start without one."""
    rows = (
        _of(Activity.objects.filter(kind__in=MEANINGFUL_TOUCHES, happened_at__lt=end_of(day)), between)
        .values("customer_id")
        .annotate(last=Max("happened_at"))
        .order_by()
    )
    last = {row["customer_id"]: timezone.localdate(row["last"]) for row in rows}
    out = {}
    for customer_id, started in start_dates.items():
        if customer_id in last:
            out[customer_id] = Reading(float(max(0, (day - last[customer_id]).days)), facts={})
        else:
            out[customer_id] = Reading(float(max(0, (day - started).days)), facts={"never": True})
    return out


def stakeholders(customers: Iterable[int], *, between: Between = None) -> dict[int, Reading]:
    """Key roles covered by the customer's contacts: decision maker and champion (0, 1 or 2)."""
    counts = (
        _of(Contact.objects.filter(role__in=(ContactRole.DECISION_MAKER, ContactRole.CHAMPION)), between)
        .values("customer_id")
        .annotate(
            decision_makers=Count("pk", filter=Q(role=ContactRole.DECISION_MAKER)),
            champions=Count("pk", filter=Q(role=ContactRole.CHAMPION)),
        )
        .order_by()
    )
    found = {row["customer_id"]: row for row in counts}
    out = {}
    for customer_id in customers:
        row = found.get(customer_id) or {"decision_makers": 0, "champions": 0}
        dm, champion = bool(row["decision_makers"]), bool(row["champions"])
        out[customer_id] = Reading(float(dm + champion), facts={"decision_maker": dm, "champion": champion})
    return out


def _normalised(kind: str, score: int, scale_max: int | None) -> float:
    low, high = scale_for(kind, scale_max)
    return 100 * (score - low) / (high - low)


def survey(day: date, *, fresh_days: int, between: Between = None) -> dict[int, Reading]:
    """The latest NPS, CSAT or CES answer of each customer within ``fresh_days`` on 0–100, averaged with its
    latest CHI (0–10 → 0–100) in that time when there is one; customers whose latest answer is older are
    given it with its date (stale). Four queries: the answers in the window, the latest older answer's date,
    and CHI's two parts."""
    since = end_of(day) - timedelta(days=fresh_days + 1)
    until = end_of(day)
    latest: dict[int, tuple] = {}
    answers = (
        _of(
            Response.objects.filter(
                customer__isnull=False, kind__in=SURVEY_KINDS, answered_at__gte=since, answered_at__lt=until
            ),
            between,
        )
        .order_by("-answered_at", "-pk")
        .values_list("customer_id", "kind", "score", "campaign__scale_max", "answered_at")
    )
    for customer_id, kind, value, scale_max, answered_at in answers:
        latest.setdefault(customer_id, (kind, value, scale_max, answered_at))
    chi: dict[int, tuple] = {}
    for row in combine_chi(
        _of(
            Response.objects.filter(
                customer__isnull=False, kind=SurveyKind.CHI, updated_at__gte=since, updated_at__lt=until
            ),
            between,
        ),
        _of(ChiAssessment.objects.filter(updated_at__gte=since, updated_at__lt=until), between),
    ):
        if row.customer_id not in chi or row.answered_at > chi[row.customer_id][1]:
            chi[row.customer_id] = (row.score, row.answered_at)
    out: dict[int, Reading] = {}
    for customer_id in latest.keys() | chi.keys():
        parts, facts, dates = [], {}, []
        if customer_id in latest:
            kind, value, scale_max, answered_at = latest[customer_id]
            parts.append(_normalised(kind, value, scale_max))
            facts.update(kind=kind, score=value)
            dates.append(answered_at)
        if customer_id in chi:
            parts.append(10.0 * chi[customer_id][0])
            facts["chi"] = chi[customer_id][0]
            dates.append(chi[customer_id][1])
        out[customer_id] = Reading(round(sum(parts) / len(parts), 2), as_of=timezone.localdate(max(dates)), facts=facts)
    older = (
        _of(Response.objects.filter(customer__isnull=False, kind__in=SURVEY_KINDS, answered_at__lt=since), between)
        .values("customer_id")
        .annotate(last=Max("answered_at"))
        .order_by()
    )
    for row in older:
        out.setdefault(row["customer_id"], Reading(None, as_of=timezone.localdate(row["last"])))
    return out


def payment(*, between: Between = None) -> dict[int, Reading]:
    """Delinquent subscriptions among each customer's running ones (customers without any: no data)."""
    rows = (
        _of(Subscription.objects.filter(status__in=RUNNING_STATUSES), between)
        .values("customer_id")
        .annotate(delinquent=Count("pk", filter=Q(status=SubscriptionStatus.DELINQUENT)))
        .order_by()
    )
    return {row["customer_id"]: Reading(float(row["delinquent"])) for row in rows}


def onboarding(day: date, *, between: Between = None) -> dict[int, Reading]:
    """Onboarding milestones overdue on ``day`` (target passed, not reached) or reached after their target."""
    rows = (
        _of(Milestone.objects.all(), between)
        .values("customer_id")
        .annotate(
            overdue=Count("pk", filter=Q(achieved_on__isnull=True, target_date__lt=day)),
            late=Count("pk", filter=Q(achieved_on__gt=F("target_date"))),
        )
        .order_by()
    )
    return {
        row["customer_id"]: Reading(
            float(row["overdue"] + row["late"]), facts={"overdue": row["overdue"], "late": row["late"]}
        )
        for row in rows
    }


def churn_risk(flags: dict[int, tuple[bool, bool]]) -> dict[int, Reading]:
    """An open churn request and a UTI stay, read with the customers themselves (``flags``)."""
    return {
        customer_id: Reading(float(churn + uti), facts={"churn_request": churn, "uti": uti})
        for customer_id, (churn, uti) in flags.items()
    }
