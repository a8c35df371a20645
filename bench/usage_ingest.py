"""Benchmark: usage events through the API against PostgreSQL's COPY of the same rows, and a day's rollup.

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench_usage \\
        .venv/bin/python -m bench.usage_ingest [--events 50000] [--customers 200] [--users 40]

The script drops and re-creates that scratch database (its name must contain "bench_usage"), migrates it, and
seeds an admin, ``--customers`` customers and an integration token. It builds ``--events`` events spread over
yesterday (Leme's time zone), ``--users`` users per customer and eight event names, then:

1. **API** (timed, after one untimed request with a bad event that warms the process up):
   ``POST /api/v1/usage-events/`` in batches of 1,000 through Django's test client (the whole request: token
   lookup, parsing, every event checked, the customers looked up, the rows copied into a temporary table and one
   INSERT … ON CONFLICT DO NOTHING RETURNING per batch, the commit). The rollup each batch queues after commit
   runs on a worker in production; here it is recorded, not run, so the figure is the ingest alone. Every answer
   must be 201 with 1,000 new events. Then the first ten batches again (all duplicates, nothing stored).
2. **COPY** (timed): the table emptied, the same rows (prepared beforehand) written with ``COPY … FROM STDIN``
   on the same connection: the floor of what PostgreSQL takes.
3. **Rollup** (timed): ``health.rollup.usage_rollup(days=[yesterday])`` over those rows, twice (the second
   run finds every row and updates it).

It prints events per second for each, the ratio API / COPY, and the rollup's seconds and rows.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leme_bench_usage"
NAMES = ["login", "report_exported", "dashboard_viewed", "invoice_sent", "lead_imported", "search", "export", "invite"]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--users", type=int, default=40, help="Users per customer.")
    parser.add_argument("--batch", type=int, default=1000)
    return parser.parse_args(argv)


def recreate_database(url: str) -> None:
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    if "bench_usage" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the scratch database's name must contain 'bench_usage'")
    with psycopg.connect(
        host=config["HOST"] or None, port=config["PORT"] or None, user=config["USER"] or None,
        password=config["PASSWORD"] or None, dbname="postgres", autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(customers: int):
    from django.core.management import call_command

    from accounts import services as account_services
    from accounts.models import Role, TokenScope
    from portfolio import services

    call_command("migrate", verbosity=0)
    admin = account_services.user_create(email="admin@bench.leme", full_name="Admin Bench", role=Role.ADMIN)
    ids = [
        services.customer_create(name=f"Cliente {n}", actor=admin, external_id=f"crm-{n}").pk for n in range(customers)
    ]
    _token, key = account_services.api_token_create(
        user=admin, name="Bench", actor=admin, scope=TokenScope.USAGE_EVENTS
    )
    return ids, key


def build_events(count: int, customer_ids: list[int], users: int, day) -> list[dict]:
    from django.utils import timezone

    rng = random.Random(42)
    start = datetime.combine(day, day_time.min, tzinfo=timezone.get_current_timezone())
    events = []
    for n in range(count):
        moment = start + timedelta(seconds=rng.randrange(24 * 60 * 60))
        customer = rng.choice(customer_ids)
        event = {
            "event_id": f"bench-{n}",
            "user_id": f"u-{rng.randrange(users)}",
            "event": rng.choice(NAMES),
            "timestamp": moment.isoformat(),
            "properties": {"plan": "pro", "n": n % 7},
        }
        if n % 2:
            event["customer"] = customer
        else:
            event["customer_external_id"] = f"crm-{customer_ids.index(customer)}"
        events.append(event)
    return events


def main(argv=None, figures: dict | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("TEST_DATABASE_URL", DEFAULT_URL)
    recreate_database(os.environ["TEST_DATABASE_URL"])

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from core import clock
    from health import rollup, tasks
    from health.models import UsageDay, UsageEvent

    customer_ids, key = seed(args.customers)
    day = clock.today() - timedelta(days=1)
    events = build_events(args.events, customer_ids, args.users, day)
    bodies = [json.dumps({"events": events[i : i + args.batch]}).encode() for i in range(0, len(events), args.batch)]
    queued = []
    tasks.usage_rollup_days.delay_on_commit = lambda **kwargs: queued.append(kwargs)  # the worker's job, not timed

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}

    def post(body: bytes) -> dict:
        response = client.post("/api/v1/usage-events/", body, content_type="application/json", **headers)
        if response.status_code not in (200, 201):
            raise SystemExit(f"answered {response.status_code}: {response.content[:500]!r}")
        return response.json()

    # One request first, untimed, so the first timed batch does not pay for the imports and caches of the first
    # request in this process (seconds under load; most of a --quick run's five batches): a batch with one bad
    # event, which stores nothing.
    warm = {**events[0], "timestamp": "not a date"}
    response = client.post(
        "/api/v1/usage-events/", json.dumps({"events": [warm]}), content_type="application/json", **headers
    )
    if response.status_code != 400 or UsageEvent.objects.exists():
        raise SystemExit(f"the warm-up batch answered {response.status_code}")
    per_batch = []
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        answer = post(body)
        per_batch.append(time.perf_counter() - t0)
        if answer["created"] != answer["received"]:
            raise SystemExit(f"expected every event new: {answer}")
    api_seconds = time.perf_counter() - started
    stored = UsageEvent.objects.count()
    if stored != len(events):
        raise SystemExit(f"{stored} events stored, {len(events)} sent")

    again = bodies[:10]
    started = time.perf_counter()
    for body in again:
        if post(body)["created"]:
            raise SystemExit("a duplicate was stored")
    duplicate_seconds = time.perf_counter() - started

    # COPY of the same rows, prepared beforehand.
    received = timezone.now()
    by_external = {f"crm-{n}": pk for n, pk in enumerate(customer_ids)}
    rows = [
        (
            e["event_id"],
            e.get("customer") or by_external[e["customer_external_id"]],
            e["user_id"],
            e["event"],
            datetime.fromisoformat(e["timestamp"]),
            json.dumps(e["properties"]),
            received,
        )
        for e in events
    ]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE health_usageevent")
    copy_sql = (
        "COPY health_usageevent (source_id, customer_id, user_ref, name, occurred_at, properties, received_at) "
        "FROM STDIN"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)
    copy_seconds = time.perf_counter() - started
    if UsageEvent.objects.count() != len(events):
        raise SystemExit("COPY stored a different number of rows")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE health_usageevent")

    rollups = []
    for _ in range(2):
        started = time.perf_counter()
        written = rollup.usage_rollup(days=[day])
        rollups.append((time.perf_counter() - started, written))
    totals = UsageDay.objects.filter(day=day)
    if sum(totals.values_list("events", flat=True)) != len(events):
        raise SystemExit("the rollup's counts do not add up to the events")

    api_rate, copy_rate = len(events) / api_seconds, len(events) / copy_seconds
    print(f"\n{len(events):,} events, {args.customers} customers, {args.users} users each, batches of {args.batch:,}")
    print(
        f"  API  (test client, {len(bodies)} POSTs): {api_rate:>9,.0f} events/s  "
        f"({api_seconds:.1f} s; per batch median {statistics.median(per_batch) * 1000:.0f} ms, "
        f"max {max(per_batch) * 1000:.0f} ms)"
    )
    print(
        f"  API, the first {len(again)} batches again (all duplicates): "
        f"{len(again) * args.batch / duplicate_seconds:,.0f} events/s"
    )
    print(f"  COPY (same rows, one stream):       {copy_rate:>9,.0f} events/s  ({copy_seconds:.2f} s)")
    print(f"  API / COPY: {api_rate / copy_rate:.2f}")
    for n, (seconds, written) in enumerate(rollups, 1):
        print(f"  rollup of {day} (run {n}): {seconds * 1000:.0f} ms, {written} customer-days")
    print(f"  rollups queued by the ingest (a worker's job, not run here): {len(queued)}")
    if figures is not None:  # for bench.all's table
        figures.update(events=len(events), api_per_s=api_rate, copy_per_s=copy_rate)
        figures.update(rollup_ms=[seconds * 1000 for seconds, _ in rollups], rollup_rows=rollups[0][1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
