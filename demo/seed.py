"""What ``seed_demo`` seeds, in order: the people, their portfolio (and its three years of history), then the
surveys on it, then the metrics' rollups. Each stage is idempotent and returns its summary lines; it reports its
progress, as it goes, to the ``progress`` callable it is given."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from demo.figures import seed_figures
from demo.grow import COPY_ABOVE, copied_tables, grow
from demo.people import seed_people
from demo.portfolio import seed_portfolio
from demo.surveys import seed_surveys
from demo.usage import seed_usage

Stage = Callable[..., list[str]]

STAGES: list[tuple[str, Stage]] = [
    ("people", seed_people),
    ("portfolio", seed_portfolio),
    ("usage", seed_usage),
    ("surveys", seed_surveys),
    ("metrics", seed_figures),
]


def seed_all(
    *,
    customers: int | None = None,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
    health_history: bool = True,
) -> Iterator[str]:
    """Run every stage, yielding each stage's summary lines as it ends; then the health history, unless
    ``health_history`` is False (the demo's tests of the other stages skip it).

    Past ``COPY_ABOVE`` customers, the stages plan and write the first ``COPY_ABOVE`` (the base), the rest are
    copies of them (``demo.grow``), and the figures built from everything (the survey tallies, the metrics'
    rollups and tallies) are built once the copies are in."""
    base = customers if customers is None or customers <= COPY_ABOVE else COPY_ABOVE
    with tasks_in_process(), commits_without_waiting_for_the_disk():
        for name, stage in STAGES:
            if name == "metrics" and base != customers:
                continue  # built after the copies
            yield from stage(customers=base, seed=seed, progress=progress)
        if health_history:
            yield from seed_health_history(progress=progress)
        if base != customers:
            yield from grow(customers, base, progress=progress)
            yield from seed_copies_figures(progress=progress)
    yield from compact_replayed_tables(progress=progress, analyze=copied_tables() if base != customers else [])


# The tables the replay rewrites row by row many times over: each customer row is updated on every day of its
# history and by every health run of the last year, about 25 versions in minutes.
REPLAYED_TABLES = ("portfolio_customer",)


def compact_replayed_tables(progress: Callable[[str], None] | None = None, analyze=()) -> list[str]:
    """On PostgreSQL, rewrite the tables the replay updated over and over (``VACUUM FULL``), with fresh statistics.

    A workspace that lived those three years would have had autovacuum reclaim each day's old row versions as it
    went, so its customers' table holds about one version per customer; the replay writes a year of nightly health
    runs in minutes, and leaves the table ten times that size (50,000 customers: 131 MB for 12 MB of rows), which
    every page that reads the customers would pay for. A demo database is then the workspace it stands for.

    ``VACUUM FULL`` leaves the rewritten table's visibility map empty, so a plain ``VACUUM`` follows it: without it
    no index-only scan can skip the heap (a leader's month of renewals read 9,640 heap blocks of 500,000 customers
    instead of its covering index) until autovacuum comes by. The tables in ``analyze`` (a grown demo's copied
    tables, written in a few large statements) are vacuumed too, so their visibility map and statistics are those of
    tables that grew over years."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:  # VACUUM runs outside any transaction
        return []
    report = progress or (lambda line: None)
    report("compacting… " + ", ".join(REPLAYED_TABLES))
    with connection.cursor() as cursor:
        for table in REPLAYED_TABLES:
            cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")
            cursor.execute(f"VACUUM {table}")  # the visibility map, which VACUUM FULL does not write
        others = [table.name for table in analyze if table.name not in REPLAYED_TABLES]
        if others:
            report(f"vacuuming {len(others)} copied tables…")
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(others)}")
    return [f"compacted: {', '.join(REPLAYED_TABLES)}"] + ([f"vacuumed: {len(others)} copied tables"] if others else [])


def seed_copies_figures(progress: Callable[[str], None] | None = None) -> list[str]:
    """What a grown demo counts from all its customers once the copies are in: the survey tallies, then the
    metrics' rollups and tallies."""
    from metrics import services as metrics_services
    from surveys import tallies

    report = progress or (lambda line: None)
    report("tallies… counting the surveys of every customer, the copies included")
    built = tallies.rebuild()
    lines = [f"surveys: tallies built ({built['answer_rows']} + {built['delivery_rows']} rows)"]
    report("metrics… building every month's figures from the MRR ledger")
    periods = metrics_services.rollups_rebuild_all()  # the copies marked no month stale: every month is rebuilt
    report("metrics… counting the CS operations' closed months")
    operations = metrics_services.operations_tallies_rebuild()
    return [
        *lines,
        f"metrics: {periods} period rollups built",
        f"metrics: {operations['rows']} CS operations tally rows",
    ]


def seed_health_history(progress: Callable[[str], None] | None = None) -> list[str]:
    """The health scores of the first day of each of the last 12 months and of today, computed by the nightly
    computation over the demo's usage."""
    # Imported here, when the step runs: it is the one step that needs the nightly computation.
    from demo.health import score_history

    report = progress or (lambda line: None)
    report("health… scoring the first day of each of the last 12 months, and today")
    days = score_history(timezone.localdate())
    return [f"health: scores computed for {len(days)} days, from {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}"]


@contextmanager
def tasks_in_process() -> Iterator[None]:
    """Run the Celery tasks queued inside the block in this process, as the embedded default always does,
    without a log line for each.

    The demo replays history day by day, and what subscribers do after each day's commit (the tasks they
    create, dated from that day) must happen then, not later in a worker. Thousands of events are announced
    on the way: their tasks' "succeeded" lines would bury the progress. Only the seeding process is
    affected, and only while it seeds."""
    trace = logging.getLogger("celery.app.trace")
    eager, level = celery_app.conf.task_always_eager, trace.level
    celery_app.conf.task_always_eager = True
    trace.setLevel(max(logging.WARNING, trace.getEffectiveLevel()))
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = eager
        trace.setLevel(level)


@contextmanager
def commits_without_waiting_for_the_disk() -> Iterator[None]:
    """On SQLite (the embedded default), let this connection's commits return before the disk confirms them.

    The replay commits once per customer per day of its history, thousands of times, and SQLite waits for
    the disk at each commit: that doubled the time ``bin/run`` takes. With ``synchronous = OFF`` a crash of
    the seeding process still cannot corrupt the file (the journal is kept); only a crash of the machine
    mid-seed could, and a demo database is seeded again from scratch. The setting is restored after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {int(before)}")
