"""Times Leme's main pages on the 50,000-customer benchmark database built by bench.portfolio_page.

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench .venv/bin/python -m bench.pages

Run bench.portfolio_page first (it builds the database). The metrics pages read rollups: build them once on that
database with ``python manage.py metrics_rebuild`` (otherwise the first request rebuilds what the seed left stale).
The tallies the beat keeps fresh in a running Leme (the survey tallies every five minutes, the CS operations'
closed months every ten) are rebuilt once before timing: a database left since its seed has them too old to be
read, and the pages would be timed on the live counts they fall back to when the beat has stopped
(``--stale-tallies`` times that fallback). Every page is asked for once per person before timing, then what the
process keeps is frozen out of the collector's way (``core.heap.freeze``), as each of Leme's gunicorn workers does
after its first requests (``config/gunicorn.py``); ``--plain-gc`` leaves the collector as a bare process has it.
A page a person may not open (403) is listed as such. Prints, per
person and page, the median and p95 of N requests in milliseconds and the number of SQL queries, through Django's
test client (in-process, DEBUG off, real PostgreSQL). ``--only /,/onboarding/`` times only those pages;
``--users mariana`` only her.
"""

import argparse
import gc
import statistics
import time

import django


def beat_tallies_rebuild() -> None:
    """What the beat does every five and ten minutes in production, done once now."""
    from metrics.tasks import operations_tallies_rebuild
    from surveys.tasks import tallies_rebuild

    started = time.perf_counter()
    tallies_rebuild()
    operations_tallies_rebuild()
    print(f"the beat's tallies (surveys, CS operations) rebuilt first: {time.perf_counter() - started:.1f} s")


class FullCollections:
    """The interpreter's full collections while timing: how many, and how long each paused the request."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((time.perf_counter() - self._started) * 1000)

    def summary(self) -> str:
        if not self.pauses:
            return "no full collection while timing"
        longest = max(self.pauses)
        return f"{len(self.pauses)} full collections while timing, the longest {longest:.1f} ms"


def main(figures: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--only", default="", help="time only these pages, comma-separated (e.g. /,/onboarding/)")
    parser.add_argument("--users", default="lucas,mariana", help="the demo people to time them for, comma-separated")
    parser.add_argument(
        "--stale-tallies", action="store_true", help="do not rebuild the beat's tallies first (time the live fallback)"
    )
    parser.add_argument(
        "--plain-gc", action="store_true", help="do not freeze the warmed process's objects as the web workers do"
    )
    args = parser.parse_args()
    django.setup()
    if not args.stale_tallies:
        beat_tallies_rebuild()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from demo.people import demo_user
    from portfolio.models import Customer

    sample = Customer.objects.filter(owner=demo_user("lucas")).order_by("-mrr_cents").first()
    pages = [
        "/",
        "/health/red-today/",  # My day's card of the customers gone red, which the page asks for once shown
        "/portfolio/",
        f"/customers/{sample.pk}/",
        "/uti/",
        "/onboarding/",
        "/surveys/",
        "/surveys/results/nps/",
        "/metrics/",
        "/metrics/customers/?figure=mrr",
        "/metrics/customers/?figure=churn&period=t12m",
        "/health/",
        "/health/customers/",
        "/playbooks/",
    ]
    if args.only:
        wanted = {url.strip() for url in args.only.split(",") if url.strip()}
        pages = [url for url in pages if url in wanted]
    clients = {}
    for key in [key.strip() for key in args.users.split(",") if key.strip()]:
        clients[key] = Client()
        clients[key].force_login(demo_user(key))
        for url in pages:  # a web worker's first requests
            clients[key].get(url)
    if not args.plain_gc:
        from core import heap

        print(f"as a web worker after its first requests: {heap.freeze():,} objects frozen")
    collections = FullCollections()
    gc.callbacks.append(collections)
    for key, client in clients.items():
        print(f"\n{key}:")
        print(f"  {'page':<45} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for url in pages:
            if client.get(url).status_code == 403:  # warm up; a page this person may not open
                print(f"  {url:<45} {'(not theirs: 403)':>28}")
                continue
            times = []
            for _ in range(args.requests):
                start = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            p95 = statistics.quantiles(times, n=20)[18]
            print(f"  {url:<45} {statistics.median(times):>10.1f} {p95:>8.1f} {len(queries):>8}")
            if figures is not None:  # for bench.all's table
                row = {"user": key, "url": url, "median_ms": statistics.median(times), "p95_ms": p95}
                figures.setdefault("pages", []).append({**row, "queries": len(queries)})
    gc.callbacks.remove(collections)
    print(f"\n{collections.summary()}")
    if figures is not None:
        figures["full_collections"] = [
            {"count": len(collections.pauses), "longest_ms": max(collections.pauses, default=0)}
        ]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
