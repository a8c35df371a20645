"""How long do the jobs that count everything take on a seeded demo database, and how much memory?

The nightly health run (``health.services.scores_recompute`` for today: every customer scored again), the metrics'
rollups (``metrics_rebuild``: every period and cohort cell), the CS operations' tallies (the beat's job every ten
minutes) and the survey tallies: each timed once, in this order, with this process's peak memory once it has run
(``ru_maxrss``: a peak, so a job that needs less than one before it shows that one's) and the queries it sent through
Django (counted, not kept; the health run's ``COPY`` of its rows is not one). They write what they would write at
night, so run this on a benchmark database. ``--health-chunk N`` runs the health run in chunks of N customers.

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench .venv/bin/python -m bench.nightly_jobs

Not a test: pytest never collects it. ``bench.scale`` runs it on two databases to show how each grows.
"""

import argparse
import resource
import time
from collections.abc import Callable

import django


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def timed(name: str, job: Callable[[], str], figures: dict) -> None:
    from django.db import connection

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    started = time.monotonic()
    with connection.execute_wrapper(count):  # counted, not kept: the count costs no memory
        detail = job()
    seconds = time.monotonic() - started
    peak = peak_mb()
    print(f"{name}: {seconds:.1f} s, peak memory {peak:,.0f} MB, {queries:,} queries ({detail})", flush=True)
    figures.setdefault("jobs", []).append(
        {"name": name, "seconds": seconds, "memory_mb": peak, "queries": queries, "detail": detail}
    )


def main(argv: list[str] | None = None, figures: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="Some of: health, rollups, operations, surveys (comma-separated).")
    parser.add_argument(
        "--health-chunk", type=int, default=0, help="Customers per chunk of the health run (default: its CHUNK_SIZE)."
    )
    args = parser.parse_args(argv)
    django.setup()

    from django.utils import timezone

    from health import services
    from health.services import scores_recompute
    from metrics import operations_tallies, rollups
    from portfolio.models import Customer
    from surveys import tallies

    figures = {} if figures is None else figures
    figures["customers"] = Customer.objects.count()
    print(f"{figures['customers']:,} customers", flush=True)

    if args.health_chunk:
        services.CHUNK_SIZE = args.health_chunk

    def health() -> str:
        result = scores_recompute(timezone.localdate())
        chunks = getattr(services, "CHUNK_SIZE", None)
        size = f", chunks of {chunks:,}" if chunks else ""
        return f"{result.scored:,} customers scored, {result.band_changes:,} band changes{size}"

    def metrics() -> str:
        return f"{rollups.rebuild_all():,} periods"

    def operations() -> str:
        return f"{operations_tallies.rebuild()['rows']:,} rows"

    def surveys() -> str:
        built = tallies.rebuild()
        return f"{built['answer_rows']:,} + {built['delivery_rows']:,} rows"

    jobs = {
        "health": ("nightly health run (every customer scored)", health),
        "rollups": ("metrics rollups rebuilt (every period, cohort cells)", metrics),
        "operations": ("CS operations tallies rebuilt", operations),
        "surveys": ("survey tallies rebuilt", surveys),
    }
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(jobs)
    for name in chosen:
        timed(*jobs[name], figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
