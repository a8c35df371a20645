"""How long do the jobs that count everything take on a seeded demo database, and how much memory?

The nightly health run (``health.services.scores_recompute`` for today: every customer scored again), the metrics'
rollups (``metrics_rebuild``: every period and cohort cell), the CS operations' tallies (the beat's job every ten
minutes) and the survey tallies: each timed once, in this order, with this process's peak memory once it has run
(``ru_maxrss``: a peak, so a job that needs less than one before it shows that one's). They write what they would
write at night, so run this on a benchmark database.

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
    started = time.monotonic()
    detail = job()
    seconds = time.monotonic() - started
    peak = peak_mb()
    print(f"{name}: {seconds:.1f} s, peak memory {peak:,.0f} MB ({detail})", flush=True)
    figures.setdefault("jobs", []).append({"name": name, "seconds": seconds, "memory_mb": peak, "detail": detail})


def main(argv: list[str] | None = None, figures: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="Some of: health, rollups, operations, surveys (comma-separated).")
    args = parser.parse_args(argv)
    django.setup()

    from django.utils import timezone

    from health.services import scores_recompute
    from metrics import operations_tallies, rollups
    from portfolio.models import Customer
    from surveys import tallies

    figures = {} if figures is None else figures
    figures["customers"] = Customer.objects.count()
    print(f"{figures['customers']:,} customers", flush=True)

    def health() -> str:
        result = scores_recompute(timezone.localdate())
        return f"{result.scored:,} customers scored, {result.band_changes:,} band changes"

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
