"""How fast is search from anywhere on a big base? See bench/README.md.

Reuses (or builds) the demo database of ``bench.portfolio_page``: 50,000 demo customers, of which Lucas, a CSM,
owns 1,000 and Mariana, the leader, sees all. Migrates it (the search indexes come with portfolio's migration
``0010_search``), then types a set of queries in the top bar as each of them: the htmx suggestions as you type
(``portfolio:search`` with ``HX-Request``, what the box asks every 250 ms), the results page, and the
suggestions' selector alone (the three queries the indexes serve, without the request and the template). Prints
the median and 95th percentile in milliseconds per person and per kind, and the machine's load average (on a
shared machine the whole-request figures move with it); exits 1 when a p95 misses the target (100 ms).

Not a test: pytest never collects it (``testpaths = ["tests"]``).
"""

import argparse
import os
import statistics
import sys
import time

from bench.portfolio_page import DEFAULT_URL, build, ensure_database, percentile

# (label, query): what people type. Accented names typed without accents, partial words, a word in thousands of
# emails ("saude"), a first name and a surname thousands of contacts share, a CNPJ prefix, a contact's email, a
# colleague's name, two letters, nothing found.
QUERIES = [
    ("name without accents", "sao jorge"),
    ("partial name", "padar"),
    ("common word", "saude"),
    ("common first name", "maria"),
    ("common surname", "silva"),
    ("accented, typed with", "Pão Dourado"),
    ("two letters", "sa"),
    ("CNPJ prefix", "{cnpj}"),
    ("contact email", "{email}"),
    ("person", "lucas"),
    ("no match", "zzzz-nada"),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000, help="Demo customers in the database.")
    parser.add_argument("--rounds", type=int, default=5, help="Timed rounds over every query, per person and kind.")
    parser.add_argument("--users", default="lucas,mariana", help="Demo people who search (lucas: a CSM).")
    parser.add_argument("--target", type=float, default=100.0, help="p95 target in milliseconds.")
    return parser.parse_args(argv)


def measure(user_key: str, rounds: int) -> dict[str, list[tuple[str, float, int]]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from demo.people import demo_user
    from portfolio import selectors

    user = demo_user(user_key)
    cnpj = selectors.customers_visible_to(user).exclude(cnpj="").order_by("pk").values_list("cnpj", flat=True)[0]
    email = selectors.contacts_visible_to(user).exclude(email="").order_by("pk").values_list("email", flat=True)[0]
    queries = [(label, q.format(cnpj=cnpj[:8], email=email.split("@")[0][:8])) for label, q in QUERIES]
    url = reverse("portfolio:search")
    client = Client()
    client.force_login(user)
    kinds = {"suggestions (htmx)": {"HTTP_HX_REQUEST": "true"}, "results page": {}, "the queries alone": None}

    def get(q: str, headers: dict | None) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            if headers is None:  # the suggestions' selector only: the SQL the indexes serve, no request or template
                selectors.search(user, q)
                return (time.perf_counter() - started) * 1000, len(captured)
            response = client.get(url, {"q": q}, **headers)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url}?q={q} answered {response.status_code}")
        return elapsed, len(captured)

    results: dict[str, list[tuple[str, float, int]]] = {}
    for kind, headers in kinds.items():
        for _label, q in queries:  # warm up: connections, templates, PostgreSQL caches
            get(q, headers)
        rows = []
        for _ in range(rounds):
            for label, q in queries:
                elapsed, count = get(q, headers)
                rows.append((label, elapsed, count))
        results[kind] = rows
    return results


def main(argv: list[str] | None = None, figures: dict | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("TEST_DATABASE_URL", DEFAULT_URL)
    url = os.environ["TEST_DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("The benchmark runs on PostgreSQL: set TEST_DATABASE_URL to a postgres:// URL.")
    ensure_database(url, rebuild=False)

    import django

    django.setup()
    build(args.customers)  # also migrates: the search indexes
    print("load average before: {:.1f} {:.1f} {:.1f} on {} CPUs".format(*os.getloadavg(), os.cpu_count()))
    ok = True
    for user_key in args.users.split(","):
        results = measure(user_key, args.rounds)
        for kind, rows in results.items():
            timings = [elapsed for _, elapsed, _ in rows]
            print(f"\nsearch as {user_key}, {kind}, {len(rows)} requests:")
            print(f"  {'query':<24} {'median ms':>10} {'max ms':>8} {'queries':>8}")
            for label, _q in QUERIES:
                times = [r[1] for r in rows if r[0] == label]
                count = next(r[2] for r in rows if r[0] == label)
                print(f"  {label:<24} {statistics.median(times):>10.1f} {max(times):>8.1f} {count:>8}")
            p50, p95 = statistics.median(timings), percentile(timings, 0.95)
            verdict = "OK" if p95 < args.target else "TOO SLOW"
            ok = ok and p95 < args.target
            print(f"  p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 < {args.target:.0f} ms): {verdict}")
            if figures is not None:  # for bench.all's table
                row = {"user": user_key, "kind": kind, "p50_ms": p50, "p95_ms": p95, "target_ms": args.target}
                figures.setdefault("searches", []).append(row)
    print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
