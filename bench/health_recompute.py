"""How long does the nightly health run take on a big base? See bench/README.md.

Builds (or reuses) a PostgreSQL database with ``--customers`` ongoing customers (default 20,000), each with 60
days of daily usage rows, a couple of contacts and a call on the timeline; then runs
``health.services.scores_recompute`` for today twice (the first run writes every row, the second rewrites
them: what a rerun costs) and prints the seconds and SQL queries of each. The rows are written straight to
the tables: the benchmark measures the score, not the seeding.

Not a test: pytest never collects it (``testpaths = ["tests"]``).
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta

from bench.portfolio_page import ensure_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leme_health_bench"


class QueryCounter:
    """Counts every statement run on the connection while installed with ``connection.execute_wrapper``
    (Django's query log, ``CaptureQueriesContext``, keeps only the last 9,000: a floor, not a count)."""

    def __init__(self):
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def build(customers: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from core import clock
    from health.models import UsageDay
    from portfolio.models import Activity, Contact, Customer

    call_command("migrate", verbosity=0)
    have = Customer.objects.filter(external_id__startswith="bench-").count()
    if have >= customers:
        return
    print(f"writing {customers - have} customers with 60 days of usage")
    started, today, rng = time.monotonic(), clock.today(), random.Random(7)
    models = ["high", "low", "tech"]
    for start in range(have, customers, 1000):
        batch = Customer.objects.bulk_create(
            Customer(
                name=f"Cliente bench {n}",
                external_id=f"bench-{n}",
                service_model=models[n % 3],
                stage="onboarding" if n % 10 == 0 else "ongoing",
                licences=rng.choice([5, 10, 20, 50, 100]),
                start_date=today - timedelta(days=400),
            )
            for n in range(start, min(customers, start + 1000))
        )
        UsageDay.objects.bulk_create(
            (
                UsageDay(
                    customer=c,
                    day=today - timedelta(days=d),
                    active_users=rng.randint(0, 30),
                    events=rng.randint(0, 400),
                )
                for c in batch
                for d in range(60)
                if rng.random() > 0.15
            ),
            batch_size=5000,
        )
        Contact.objects.bulk_create(
            Contact(customer=c, name="Contato", role=rng.choice(["decision_maker", "champion", "user"])) for c in batch
        )
        Activity.objects.bulk_create(
            Activity(
                customer=c, kind="call", title="Ligação", happened_at=clock.now() - timedelta(days=rng.randint(0, 120))
            )
            for c in batch
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"written in {time.monotonic() - started:.0f} s")


def main(argv: list[str] | None = None, figures: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("TEST_DATABASE_URL", DEFAULT_URL)
    url = os.environ["TEST_DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("The benchmark runs on PostgreSQL: set TEST_DATABASE_URL to a postgres:// URL.")
    ensure_database(url, rebuild=args.rebuild)

    import django

    django.setup()
    from django.db import connection

    from core import clock
    from health import services
    from health.models import HealthScore

    build(args.customers)
    today = clock.today()
    for label in ("first run", "rerun"):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            result = services.scores_recompute(today)
            elapsed = time.perf_counter() - started
        print(f"{label}: {result.scored} customers scored in {elapsed:.1f} s, {counter.queries} queries")
        if figures is not None:  # for bench.all's table
            figures[label] = {"scored": result.scored, "seconds": elapsed, "queries": counter.queries}
    print(f"rows for today: {HealthScore.objects.filter(day=today).count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
