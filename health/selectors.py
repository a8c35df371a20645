"""What health's pages read: the customer page's panel, the overrides in force, the customers gone red on
My day, and the licences a customer's usage is measured against."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.access import can_override_health
from accounts.models import User
from core import clock
from health.measures import MEASURES, MeasureChange, changes, fell_most, left_out_text, value_text
from health.models import HealthOverride, HealthScore
from portfolio.models import RUNNING_STATUSES, Customer, Subscription
from portfolio.selectors import of_visible_customer_keys, of_visible_customers


def licences_by_customer(customer_ids: Iterable[int]) -> dict[int, int | None]:
    """Each customer's licences (the seats its users may fill, the denominator of "active users vs licences"):
    ``Customer.licences`` when set, otherwise the seats of its running subscriptions added up; ``None`` when
    neither says (no licences known: the measure is left out, never divided by 0). One query for any number."""
    ids = list(set(customer_ids))
    return licences(Customer.objects.filter(pk__in=ids)) if ids else {}


TREND_DAYS = 90


def licences(customers: QuerySet[Customer]) -> dict[int, int | None]:
    """The licences of each customer, in one query: ``Customer.licences`` when set, else the seats of its
    running subscriptions added up (None when neither is known)."""
    seats = (
        Subscription.objects.filter(customer=OuterRef("pk"), status__in=RUNNING_STATUSES)
        .order_by()
        .values("customer")
        .annotate(total=Sum("seats"))
        .values("total")
    )
    # Unordered: a dict, and ordered by name the nightly run's chunk of ids would be found by scanning every name.
    return dict(customers.order_by().annotate(n=Coalesce("licences", Subquery(seats))).values_list("pk", "n"))


# --- The customer page's panel ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureLine:
    key: str
    label: str
    value: str
    points: float | None
    weight: int
    contribution: float | None
    left_out: str  # why it was left out, in words; empty when it counted


@dataclass(frozen=True)
class TrendChart:
    """The 90-day trend as SVG coordinates (viewBox 0 0 ``width`` ``height``; y grows downwards)."""

    width: int
    height: int
    points: str  # polyline "x,y x,y …" of the computed score
    dots: list[tuple[float, float, str]]  # (x, y, band) of the latest day
    version_marks: list[tuple[float, date, int]]  # (x, day, version number) where the profile version changed
    red_y: float
    yellow_y: float
    red_h: float
    yellow_h: float
    first_day: date
    last_day: date


@dataclass(frozen=True)
class HealthPanel:
    """The customer page's health panel."""

    latest: HealthScore | None
    lines: list[MeasureLine]
    left_out: list[MeasureLine]
    change_from: HealthScore | None  # the row the last change is explained against
    changes: list[MeasureChange]
    chart: TrendChart | None
    override: HealthOverride | None
    can_override: bool
    overrides_url_visible: bool  # leaders and admins: a link to every override in force
    today: date
    form: object = None
    errors: dict = field(default_factory=dict)


def _chart(rows: list[HealthScore], today: date) -> TrendChart | None:
    scored = [r for r in rows if r.score is not None]
    if not scored:
        return None
    width, height, first = 270, 80, today - timedelta(days=TREND_DAYS - 1)

    def x(day: date) -> float:
        return round((day - first).days * width / (TREND_DAYS - 1), 1)

    def y(score: float) -> float:
        return round(height - score * height / 100, 1)

    marks, previous = [], None
    for row in rows:
        if previous is not None and row.profile_version_id != previous.profile_version_id:
            marks.append((x(row.day), row.day, row.profile_version.number))
        previous = row
    last = scored[-1]
    version = last.profile_version
    return TrendChart(
        width=width,
        height=height,
        points=" ".join(f"{x(r.day)},{y(r.score)}" for r in scored),
        dots=[(x(last.day), y(last.score), last.band)],
        version_marks=marks,
        red_y=y(version.red_max),
        yellow_y=y(version.yellow_max),
        red_h=round(height - y(version.red_max), 1),
        yellow_h=round(y(version.red_max) - y(version.yellow_max), 1),
        first_day=first,
        last_day=today,
    )


def _lines(row: HealthScore) -> tuple[list[MeasureLine], list[MeasureLine]]:
    counted, left = [], []
    for key, data in row.measures.items():
        measure = MEASURES.get(key)
        if measure is None:
            continue
        line = MeasureLine(
            key=key,
            label=str(measure.label),
            value=value_text(key, data) if not data.get("left_out") else "",
            points=data.get("points"),
            weight=data.get("weight", 0),
            contribution=data.get("contribution"),
            left_out=left_out_text(data),
        )
        (left if line.left_out else counted).append(line)
    counted.sort(key=lambda line: -line.weight)
    return counted, left


def customer_health(user: User, customer: Customer, *, today: date | None = None) -> HealthPanel:
    """The health panel of a customer the user may see: two queries (the 90 days of scores with their profile
    versions, and the override in force), whatever the history."""
    today = today or clock.today()
    rows = list(
        HealthScore.objects.filter(customer=customer, day__gt=today - timedelta(days=TREND_DAYS), day__lte=today)
        .select_related("profile_version")
        .order_by("day")
    )
    override = (
        HealthOverride.objects.filter(customer=customer, ended_at__isnull=True).select_related("created_by").first()
    )
    latest = rows[-1] if rows else None
    lines, left = _lines(latest) if latest else ([], [])
    # The last change: the latest row against the latest earlier row with another score or band.
    change_from = None
    if latest is not None:
        for row in reversed(rows[:-1]):
            if (row.score, row.band) != (latest.score, latest.band):
                change_from = row
                break
    return HealthPanel(
        latest=latest,
        lines=lines,
        left_out=left,
        change_from=change_from,
        changes=changes(change_from.measures, latest.measures) if change_from and latest else [],
        chart=_chart(rows, today),
        override=override,
        can_override=can_override_health(user),
        overrides_url_visible=bool(user.is_admin or user.is_leader),
        today=today,
    )


# --- Overrides in force -------------------------------------------------------------------------------


def overrides_in_force(user: User) -> QuerySet[HealthOverride]:
    """The overrides in force on the customers the user sees, soonest to end first; one query."""
    return (
        of_visible_customers(HealthOverride, user)
        .filter(ended_at__isnull=True)
        .select_related("customer", "customer__owner", "created_by")
        .order_by("ends_on", "pk")
    )


# --- My day ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnedRed:
    customer_id: int
    name: str
    score: int | None
    from_band: str
    reason: MeasureChange | None


def turned_red(user: User, today: date) -> list[TurnedRed] | None:
    """The person's customers whose computed band turned red in today's run (yellow or green yesterday), with
    the measure that fell most; None when there are none. One query. A customer under an override is left
    out: someone already judged it."""
    # One score per customer and day: no ordering (the model's would join the customer for its name).
    yesterday = HealthScore.objects.filter(customer=OuterRef("customer"), day=today - timedelta(days=1)).order_by()
    # The day's rows that turned red carry yesterday's band (``previous_band``, written by the run), so they are
    # read from their own partial index, worst first (health 0009): the day's changes to red, not its every red
    # score tested against yesterday's. The 50 shown are chosen on those narrow rows, each then named (the name
    # sorts equal scores); only the chosen 50 read both days' measures.
    name = Subquery(Customer.objects.filter(pk=OuterRef("customer_id")).order_by().values("name")[:1])
    red = of_visible_customer_keys(
        HealthScore.objects.filter(day=today, band="red", previous_band__in=["yellow", "green"], override__isnull=True),
        user,
    )
    shown = red.order_by("score", name).values("pk")[:50]
    rows = (
        HealthScore.objects.filter(pk__in=shown)
        .annotate(
            name=F("customer__name"),
            from_band=F("previous_band"),
            before=Subquery(yesterday.values("measures")[:1]),
        )
        .order_by("score", "customer__name")
        .values("customer_id", "name", "score", "from_band", "measures", "before")[:50]
    )
    found = [
        TurnedRed(
            customer_id=row["customer_id"],
            name=row["name"],
            score=row["score"],
            from_band=row["from_band"],
            reason=fell_most(_json(row["before"]), row["measures"]),
        )
        for row in rows
    ]
    return found or None


def _json(value) -> dict:
    """A JSON value read through a subquery: a dict on PostgreSQL, text on SQLite."""
    if isinstance(value, str):
        return json.loads(value)
    return value or {}
