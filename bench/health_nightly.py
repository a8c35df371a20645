"""The nightly health run against one plain SQL aggregate over the same raw events. See bench/README.md.

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench_nightly \\
        .venv/bin/python -m bench.health_nightly [--customers 50000] [--events 10000000]

Builds (or reuses) a database (its name must contain "bench_nightly") with ``--customers`` customers and
``--events`` raw usage events spread over the score's window (the 30 days up to yesterday, Leme's time zone),
written with ``COPY`` (the non-unique indexes dropped first and built again after: minutes, not hours). The days
before yesterday are rolled up into ``UsageDay`` once, untimed: what the earlier nights left. Then, in the same
run and one after the other:

1. **The aggregate** (the floor): one plain SQL statement over the window's raw events,
   ``SELECT customer_id, count(*), count(DISTINCT user_ref) FROM health_usageevent WHERE occurred_at in the
   window GROUP BY customer_id``.
2. **The nightly run**, as the beat runs it: ``health.tasks.usage_rollup_yesterday`` (yesterday's raw events
   into ``UsageDay``) then ``health.tasks.scores_recompute`` (every customer's score of today). Yesterday's
   rollups and today's scores are deleted first, so each run of the benchmark times a first night.

It prints both times, their SQL queries (counted with ``connection.execute_wrapper``) and the ratio nightly /
aggregate: the target is 1.0 or less (the whole night no slower than that one aggregate). ``--quick`` is a small
size for ``bench.all`` (2,000 customers, 200,000 events). Not a test: pytest never collects it.
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leme_bench_nightly"
WINDOW_DAYS = 30  # health.readings.WINDOW: the days the score reads
NAMES = ["login", "report_exported", "dashboard_viewed", "invoice_sent", "lead_imported", "search", "export", "invite"]
MARK = "nightly-"  # the benchmark's customers' external ids
TARGET = 1.0

AGGREGATE_SQL = """
SELECT customer_id, count(*), count(DISTINCT user_ref)
FROM health_usageevent
WHERE occurred_at >= %s AND occurred_at < %s
GROUP BY customer_id
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=10_000_000, help="Raw events in the 30 days' window.")
    parser.add_argument("--quick", action="store_true", help="2,000 customers and 200,000 events.")
    parser.add_argument("--rebuild", action="store_true", help="Drop and build the database again.")
    args = parser.parse_args(argv)
    if args.quick:
        args.customers, args.events = 2_000, 200_000
    return args


def seeded(customers: int, events: int) -> bool:
    from django.db import connection

    from portfolio.models import Customer

    if Customer.objects.filter(external_id__startswith=MARK).count() != customers:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM health_usageevent")
        return cursor.fetchone()[0] == events


def build(customers: int, events: int, window: tuple[datetime, datetime]) -> None:
    """Customers (contacts and a call each) and the window's raw events by COPY; earlier nights' rollups."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from core import clock
    from health import rollup
    from portfolio.models import Activity, Contact, Customer

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE health_usageevent, health_usageday, health_healthscore, portfolio_activity, portfolio_contact, "
            "portfolio_customer RESTART IDENTITY CASCADE"
        )
    started, today, rng = time.monotonic(), clock.today(), random.Random(7)
    print(f"writing {customers:,} customers", flush=True)
    models, seats, now = ["high", "low", "tech"], [5, 10, 20, 50, 100], clock.now()
    ids: list[int] = []
    for start in range(0, customers, 2000):
        batch = Customer.objects.bulk_create(
            Customer(
                name=f"Cliente noturno {n}",
                external_id=f"{MARK}{n}",
                service_model=models[n % 3],
                stage="onboarding" if n % 10 == 0 else "ongoing",
                licences=seats[n % 5],
                start_date=today - timedelta(days=400),
            )
            for n in range(start, min(customers, start + 2000))
        )
        ids += [c.pk for c in batch]
        roles = ["decision_maker", "champion", "user"]
        Contact.objects.bulk_create(Contact(customer=c, name="Contato", role=rng.choice(roles)) for c in batch)
        Activity.objects.bulk_create(
            Activity(customer=c, kind="call", title="Ligação", happened_at=now - timedelta(days=rng.randrange(120)))
            for c in batch
        )
    print(f"  {time.monotonic() - started:.0f} s; {events:,} events by COPY", flush=True)
    with connection.cursor() as cursor:
        # Indexes that back no constraint are built once after the COPY (a sort) rather than row by row.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'health_usageevent' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'health_usageevent'::regclass)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    copied = time.monotonic()
    _copy_events(events, ids, window, rng)
    print(f"  COPY {time.monotonic() - copied:.0f} s; indexes", flush=True)
    built = time.monotonic()
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE")
    print(f"  indexes {time.monotonic() - built:.0f} s; the earlier nights' rollups", flush=True)
    rolled = time.monotonic()
    days = [window[0].date() + timedelta(days=d) for d in range(WINDOW_DAYS - 1)]
    with transaction.atomic():
        rollup.usage_rollup(days=days)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE health_usageday")
    print(f"  rollups {time.monotonic() - rolled:.0f} s; built in {time.monotonic() - started:.0f} s", flush=True)


def _copy_events(events: int, ids: list[int], window: tuple[datetime, datetime], rng: random.Random) -> None:
    """COPY in text format, one day at a time in time order (the occurred_at index is appended to)."""
    from django.db import connection

    start = window[0].astimezone(UTC)
    received = (window[1].astimezone(UTC)).strftime("%Y-%m-%d %H:%M:%S+00")
    seconds = [f"{s:02d}+00" for s in range(60)]
    users = [f"u-{n}" for n in range(100)]
    columns = "source_id, customer_id, user_ref, name, occurred_at, properties, received_at"
    sql = f"COPY health_usageevent ({columns}) FROM STDIN"
    per_day, n = events // WINDOW_DAYS, 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for d in range(WINDOW_DAYS):
            count = per_day if d < WINDOW_DAYS - 1 else events - per_day * (WINDOW_DAYS - 1)
            day = start + timedelta(days=d)
            minutes = [(day + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:") for m in range(1440)]
            moments = sorted(rng.randrange(86400) for _ in range(count))
            customers = rng.choices(ids, k=count)
            lines = []
            for moment, customer in zip(moments, customers, strict=True):
                # Each customer's users: its licences at most (5 to 100), a few busier than others.
                user = users[int(rng.random() * rng.random() * (5 + customer % 5 * 20))]
                lines.append(
                    f"ev{n:09d}\t{customer}\t{user}\t{NAMES[n % 8]}\t{minutes[moment // 60]}{seconds[moment % 60]}"
                    f"\t{{}}\t{received}\n"
                )
                n += 1
                if len(lines) == 50_000:
                    copy.write("".join(lines))
                    lines = []
            copy.write("".join(lines))


def main(argv=None, figures: dict | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("TEST_DATABASE_URL", DEFAULT_URL)
    url = os.environ["TEST_DATABASE_URL"]
    if not url.startswith("postgres") or "bench_nightly" not in url:
        raise SystemExit("Give a PostgreSQL TEST_DATABASE_URL whose name contains 'bench_nightly'.")
    from bench.health_recompute import QueryCounter
    from bench.portfolio_page import ensure_database

    ensure_database(url, rebuild=args.rebuild)

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from core import clock
    from health import tasks
    from health.models import HealthScore, UsageDay

    today = clock.today()
    yesterday = today - timedelta(days=1)
    zone = timezone.get_current_timezone()
    window = (
        datetime.combine(yesterday - timedelta(days=WINDOW_DAYS - 1), day_time.min, tzinfo=zone),
        datetime.combine(today, day_time.min, tzinfo=zone),
    )
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.rebuild or not seeded(args.customers, args.events):
        build(args.customers, args.events, window)

    # Each run times a first night: yesterday not rolled up yet, today not scored yet.
    UsageDay.objects.filter(day=yesterday).delete()
    HealthScore.objects.filter(day=today).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE health_usageday")
        cursor.execute("VACUUM ANALYZE health_healthscore")

    load = os.getloadavg()[0]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(AGGREGATE_SQL, window)
        grouped = len(cursor.fetchall())
    aggregate_s = time.perf_counter() - started

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        rolled = tasks.usage_rollup_yesterday()
        rollup_s = time.perf_counter() - started
        scored = tasks.scores_recompute()
        nightly_s = time.perf_counter() - started
    rollup_events = sum(UsageDay.objects.filter(day=yesterday).values_list("events", flat=True))

    print(f"\n{args.customers:,} customers, {args.events:,} raw events in {window[0]:%Y-%m-%d}..{yesterday}")
    print(f"  aggregate over the window's raw events ({grouped:,} customers): {aggregate_s:.2f} s, 1 query")
    print(
        f"  nightly run: {nightly_s:.2f} s, {counter.queries} queries (rollup of {yesterday}: {rolled:,} customer-days"
        f" from {rollup_events:,} events in {rollup_s:.2f} s; scores_recompute: {scored['scored']:,} customers in"
        f" {nightly_s - rollup_s:.2f} s)"
    )
    ratio = nightly_s / aggregate_s
    after = os.getloadavg()[0]
    print(f"  nightly / aggregate: {ratio:.2f} (target ≤ {TARGET:.1f}); load average {load:.1f} → {after:.1f}")
    if figures is not None:  # for bench.all's table
        figures.update(
            customers=args.customers, events=args.events, aggregate_s=aggregate_s, nightly_s=nightly_s,
            rollup_s=rollup_s, queries=counter.queries, scored=scored["scored"],
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
