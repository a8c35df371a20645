"""How fast is the portfolio page on a big base? See bench/README.md.

Builds (or reuses) a PostgreSQL database with the demo team and 50,000 demo customers, in which Lucas, a CSM,
owns exactly 1,000; then requests ``portfolio:list`` as that CSM through Django's test client (the whole
request: middleware, view, selectors, template), plain and with filters, sorts, searches, pages and htmx,
and prints the median and 95th percentile in milliseconds. Exits 1 when the p95 misses the target.

Not a test: pytest never collects it (``testpaths = ["tests"]``).
"""

import argparse
import os
import statistics
import sys
import time

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leme_bench"

# (label, query string, extra headers): what a CSM does on the page.
VARIANTS = [
    ("first page", "", {}),
    ("sorted by MRR", "sort=-mrr", {}),
    ("sorted by last touch", "sort=touch", {}),
    ("sorted by renewal", "sort=renewal", {}),
    ("stage filter", "stage=ongoing", {}),
    ("segment + service model", "segment=smb&service_model=tech&sort=-mrr", {}),
    ("search by name", "q=Padaria", {}),
    ("search by CNPJ", "q={cnpj}", {}),
    ("search, no match", "q=zzzz-nada", {}),
    ("page 20", "page=20", {}),
    ("100 rows a page, by MRR", "per_page=100&sort=-mrr", {}),
    ("htmx: filter partial", "stage=ongoing&sort=-touch", {"HTTP_HX_REQUEST": "true"}),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000, help="Demo customers in the database.")
    parser.add_argument("--requests", type=int, default=50, help="Timed requests, spread over the variants.")
    parser.add_argument("--user", default="lucas", help="Demo person who opens the page (lucas owns 1,000).")
    parser.add_argument("--target", type=float, default=150.0, help="p95 target in milliseconds.")
    parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the database first.")
    return parser.parse_args(argv)


def ensure_database(url: str, *, rebuild: bool) -> None:
    """Create the benchmark database if it does not exist (or drop and create it with ``--rebuild``)."""
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    with psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if rebuild:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def build(customers: int) -> None:
    """Migrate and seed until the demo has ``customers`` customers; seeding only adds what is missing."""
    from django.core.management import call_command
    from django.db import connection

    from portfolio.models import Customer

    call_command("migrate", verbosity=0)
    have = Customer.objects.filter(external_id__startswith="demo-").count()
    if have < customers:
        print(f"seeding {customers - have} demo customers (this takes a few minutes the first time)")
        started = time.monotonic()
        call_command("seed_demo", customers=customers)
        print(f"seeded in {time.monotonic() - started:.0f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def measure(user_key: str, requests: int) -> tuple[list[tuple[str, float, int, int]], str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from demo.people import demo_user
    from portfolio import selectors
    from portfolio.models import Customer

    user = demo_user(user_key)
    visible = selectors.customers_visible_to(user)
    owned, seen = Customer.objects.filter(owner=user).count(), visible.count()
    cnpj = visible.order_by("pk").values_list("cnpj", flat=True).first() or ""
    url = reverse("portfolio:list")
    client = Client()
    client.force_login(user)
    variants = [(label, query.format(cnpj=cnpj[:10]), headers) for label, query, headers in VARIANTS]

    def get(query: str, headers: dict) -> tuple[float, int, int]:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(f"{url}?{query}" if query else url, **headers)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url}?{query} answered {response.status_code}")
        return elapsed, len(queries), len(response.content)

    for _label, query, headers in variants:  # warm up: connections, templates, PostgreSQL caches
        get(query, headers)
    results = []
    for n in range(requests):
        label, query, headers = variants[n % len(variants)]
        elapsed, queries, size = get(query, headers)
        results.append((label, elapsed, queries, size))
    return results, f"owns {owned}, sees {seen} customers"


def main(argv: list[str] | None = None, figures: dict | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("TEST_DATABASE_URL", DEFAULT_URL)
    url = os.environ["TEST_DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("The benchmark runs on PostgreSQL: set TEST_DATABASE_URL to a postgres:// URL.")
    ensure_database(url, rebuild=args.rebuild)

    import django

    django.setup()
    build(args.customers)
    results, scope = measure(args.user, args.requests)

    timings = [elapsed for _, elapsed, _, _ in results]
    print(f"\nportfolio page as {args.user} ({scope}), {len(results)} requests:")
    print(f"  {'variant':<26} {'n':>3} {'median ms':>10} {'max ms':>8} {'queries':>8} {'KiB':>6}")
    for label, _query, _headers in VARIANTS:
        rows = [r for r in results if r[0] == label]
        if rows:
            times = [r[1] for r in rows]
            print(
                f"  {label:<26} {len(rows):>3} {statistics.median(times):>10.1f} {max(times):>8.1f} "
                f"{rows[0][2]:>8} {rows[0][3] / 1024:>6.0f}"
            )
    median, p95 = statistics.median(timings), percentile(timings, 0.95)
    verdict = "OK" if p95 < args.target else "TOO SLOW"
    print(f"\nmedian {median:.1f} ms, p95 {p95:.1f} ms (target p95 < {args.target:.0f} ms): {verdict}")
    if figures is not None:  # for bench.all's table
        queries = max(r[2] for r in results)
        figures.update(user=args.user, median_ms=median, p95_ms=p95, target_ms=args.target, queries=queries)
    return 0 if p95 < args.target else 1


if __name__ == "__main__":
    sys.exit(main())
