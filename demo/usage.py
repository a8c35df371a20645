"""Product usage for the demo customers: the daily rollups (``UsageDay``) the health score reads, for about
13 months, and the seats they are measured against.

Usage carries the signal a health score should find: a customer that later opens a churn request or churns
uses less and less in the four months before (fewer active users, fewer active days, fewer features), and one
saved from churn comes back part of the way; the others are steady or growing. Some steady customers dip for a
while and recover (a score that flags them is wrong about them), so the signal is real but not perfect.

Seats: a third of the customers have their licences set on the customer; the others' first product carries
seats on its subscription rows.

Deterministic: each customer's usage is a function of the seed and its demo id. Idempotent: customers that
already have usage get none added. Fast on a big base: the rows are built in plain tuples a chunk of customers
at a time and written with PostgreSQL's COPY (``bulk_create`` elsewhere), with a fixed number of queries per
chunk.
"""

import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from demo.plans import EXTERNAL_PREFIX
from health.models import UsageDay
from portfolio.models import ChurnOutcome, ChurnRequest, Customer, Stage, Subscription

HISTORY_DAYS = 395  # about 13 months
DECLINE_DAYS = 120  # usage falls over the four months before a churn request or a churn
RECOVERY_DAYS = 45  # and comes back part of the way after a save
CHUNK = 500  # customers per transaction
FEATURES = [
    "login", "dashboard_viewed", "report_exported", "lead_created", "campaign_sent", "integration_synced",
    "automation_run", "user_invited", "comment_added", "file_uploaded", "api_call", "settings_changed",
]  # fmt: skip
MIXES = 3  # event mixes per number of features used
SEATS = {"smb": (3, 15), "mid": (12, 60), "enterprise": (50, 250)}


@dataclass(frozen=True)
class UsagePlan:
    """What a customer's usage follows: its seats, how many use it and how often, which features, and the
    dates of trouble (churn requests, the churn) with the day each request was resolved, if saved."""

    customer_id: int
    key: str
    seats: int
    first_day: date
    last_day: date  # the last day with usage (the day before a churn, or yesterday)
    troubles: tuple[tuple[date, date | None], ...]  # (trouble day, recovered on)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def level(plan: UsagePlan, day: date, growth: float, dip: tuple[date, int] | None) -> float:
    """How much the customer uses the product on ``day``, relative to its usual (1.0): a steady growth (or a
    slow fall), a decline over the four months before each trouble, a recovery after a save, and a dip."""
    return _level(day.toordinal(), plan.first_day.toordinal(), _troubles(plan), growth, _dip(dip))


def _troubles(plan: UsagePlan) -> list[tuple[int, int | None]]:
    return [(t.toordinal(), r.toordinal() if r else None) for t, r in plan.troubles]


def _dip(dip: tuple[date, int] | None) -> tuple[int, int] | None:
    return (dip[0].toordinal(), dip[1]) if dip else None


def _level(day: int, first: int, troubles: list, growth: float, dip: tuple[int, int] | None) -> float:
    # On day ordinals: this runs once per customer and day, millions of times on a big base.
    factor = 1 + growth * (day - first) / 365
    for trouble, recovered in troubles:
        before = trouble - day
        if 0 < before <= DECLINE_DAYS:
            factor *= 1 - 0.75 * (DECLINE_DAYS - before) / DECLINE_DAYS
        elif before <= 0:
            if recovered is not None and day >= recovered:
                factor *= min(0.85, 0.25 + 0.6 * (day - recovered) / RECOVERY_DAYS)
            else:
                factor *= 0.25
    if dip is not None:
        into = day - dip[0]
        half = dip[1] / 2
        if 0 <= into < dip[1]:
            factor *= 0.45 + 0.55 * abs(into - half) / half
    return factor if factor > 0 else 0.0


def usage_rows(plan: UsagePlan, seed: int) -> list[tuple]:
    """The customer's ``(customer_id, day, active_users, events, events_by_name JSON)`` rows, one per day with
    usage."""
    rng = random.Random(f"{seed}:usage:{plan.key}")  # noqa: S311 - demo data, not security
    adoption = rng.uniform(0.35, 0.9)
    active_chance = rng.uniform(0.7, 0.95)
    growth = rng.uniform(-0.05, 0.3) if not plan.troubles else rng.uniform(-0.05, 0.1)
    features = [json.dumps(name) for name in FEATURES[:1] + rng.sample(FEATURES[1:], len(FEATURES) - 1)]
    breadth = rng.randint(4, len(FEATURES))
    dip = None
    if not plan.troubles and rng.random() < 0.15:
        dip = (plan.first_day + timedelta(days=rng.randint(30, max(31, (plan.last_day - plan.first_day).days))), 90)
    first, last = plan.first_day.toordinal(), plan.last_day.toordinal()
    troubles, dip_days = _troubles(plan), _dip(dip)
    weekday = plan.first_day.weekday()
    rand, seats, customer_id = rng.random, plan.seats, plan.customer_id
    # A day's events by name come from a few mixes per number of features used, each scaled by the users: built
    # once per customer and reused, as the rows are many.
    mixes = {
        n: [
            [(features[0], 1 + int(rand() * 4))] + [(f, 1 + int(rand() * 4)) for f in features[1:n] if rand() < 0.6]
            for _ in range(MIXES)
        ]
        for n in range(1, breadth + 1)
    }
    built: dict[tuple[int, int, int], tuple[int, str]] = {}
    rows = []
    for day in range(first, last + 1):
        factor = _level(day, first, troubles, growth, dip_days)
        capped = factor if factor < 1 else 1.0
        weekend = (weekday + day - first) % 7 >= 5
        if rand() >= active_chance * capped * (0.2 if weekend else 1.0):
            continue
        users = round(seats * min(adoption * factor, 1.0) * (0.7 + 0.4 * rand()))
        users = min(max(users, 1), seats)
        key = (max(1, math.ceil(breadth * capped)), int(rand() * MIXES), users)
        if key not in built:
            mix = mixes[key[0]][key[1]]
            built[key] = (
                sum(users * m for _, m in mix),
                "{" + ", ".join(f"{name}: {users * m}" for name, m in mix) + "}",
            )
        events, by_name = built[key]
        rows.append((customer_id, date.fromordinal(day), users, events, by_name))
    return rows


def _plans(today: date, seed: int) -> tuple[list[UsagePlan], dict[int, int]]:
    """Every demo customer without usage yet, with its usage plan; and the licences to set on customers."""
    start = today - timedelta(days=HISTORY_DAYS)
    with_usage = set(
        UsageDay.objects.filter(customer__external_id__startswith=EXTERNAL_PREFIX)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    troubles: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for customer_id, requested_on, outcome, resolved_at in ChurnRequest.objects.filter(
        customer__external_id__startswith=EXTERNAL_PREFIX
    ).values_list("customer_id", "requested_on", "outcome", "resolved_at"):
        saved = outcome in (ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL) and resolved_at is not None
        troubles[customer_id].append((requested_on, timezone.localdate(resolved_at) if saved else None))
    plans, licences = [], {}
    customers = Customer.objects.filter(external_id__startswith=EXTERNAL_PREFIX).order_by("external_id")
    for pk, key, segment, start_date, stage, changed_at in customers.values_list(
        "pk", "external_id", "segment", "start_date", "stage", "stage_changed_at"
    ):
        if pk in with_usage:
            continue
        rng = random.Random(f"{seed}:seats:{key}")  # noqa: S311 - demo data, not security
        seats = rng.randint(*SEATS.get(segment, SEATS["smb"]))
        if rng.random() < 1 / 3:
            licences[pk] = seats
        churned_on = timezone.localdate(changed_at) if stage == Stage.CHURNED else None
        dates = list(troubles.get(pk, []))
        if churned_on is not None and not any(abs((churned_on - d).days) < 15 for d, _ in dates):
            dates.append((churned_on, None))
        plan = UsagePlan(
            customer_id=pk,
            key=key,
            seats=seats,
            first_day=max(start, start_date),
            last_day=min(today - timedelta(days=1), (churned_on or today) - timedelta(days=1)),
            troubles=tuple(sorted(dates)),
        )
        if plan.first_day <= plan.last_day:  # a customer gone before the history starts, or new today, has none
            plans.append(plan)
    return plans, licences


def _write(rows: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        columns = "customer_id, day, active_users, events, events_by_name"
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {UsageDay._meta.db_table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    UsageDay.objects.bulk_create(
        [
            UsageDay(customer_id=c, day=d, active_users=u, events=e, events_by_name=json.loads(n))
            for c, d, u, e, n in rows
        ],
        batch_size=2000,
    )


def _set_seats(plans: list[UsagePlan], licences: dict[int, int]) -> None:
    """Licences on the customers chosen for them; seats on the first product's rows for the others."""
    Customer.objects.bulk_update(
        [Customer(pk=pk, licences=n) for pk, n in licences.items()], ["licences"], batch_size=1000
    )
    seats = {plan.customer_id: plan.seats for plan in plans if plan.customer_id not in licences}
    first_product: dict[int, str] = {}
    rows = []
    for pk, customer_id, product in (
        Subscription.objects.filter(customer_id__in=list(seats), seats__isnull=True)
        .order_by("customer_id", "start_date", "pk")
        .values_list("pk", "customer_id", "product")
    ):
        if first_product.setdefault(customer_id, product) == product:
            rows.append(Subscription(pk=pk, seats=seats[customer_id]))
    Subscription.objects.bulk_update(rows, ["seats"], batch_size=1000)


def seed_usage(
    customers: int | None = None, seed: int = 2026, progress: Callable[[str], None] | None = None, **_
) -> list[str]:
    """About 13 months of daily usage for every demo customer that has none yet, and their seats."""
    report = progress or (lambda line: None)
    if customers == 0:
        return ["usage: no customers asked for"]
    today = timezone.localdate()
    plans, licences = _plans(today, seed)
    if not plans:
        return ["usage: every demo customer already has its usage"]
    written = done = 0
    report(f"usage… {len(plans)} customers, {HISTORY_DAYS} days")
    for chunk in _chunks(plans, CHUNK):
        with transaction.atomic():
            _set_seats(chunk, {pk: n for pk, n in licences.items() if pk in {p.customer_id for p in chunk}})
            rows = [row for plan in chunk for row in usage_rows(plan, seed)]
            _write(rows)
        written += len(rows)
        done += len(chunk)
        report(f"usage {done}/{len(plans)} customers, {written} days of usage…")
    if not written:
        # Only customers whose few days came out quiet (a weekend, for one that started yesterday): a plan with no
        # day of usage is all the usage they have, so seeding again finds them again and writes nothing either.
        return ["usage: every demo customer already has its usage"]
    return [f"usage: {written} days of usage for {len(plans)} customers ({len(licences)} with licences set)"]
