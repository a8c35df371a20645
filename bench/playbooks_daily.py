"""How long do the playbooks' daily date check and the advance of due steps take on the demo database?

Builds (or reuses) the demo database like ``bench.portfolio_page``, makes sure three company-wide date
playbooks are active ("Renewal in 90 days" from the defaults, plus "no touch in 30 days" and "review due in
14 days" owned by the benchmark), clears what an earlier run of the benchmark left (their runs and tasks),
then times:

1. ``engine.date_triggers_check()``: the set-based enrolment (one query and one bulk insert per playbook);
2. ``engine.runs_advance_due(limit=--runs)``: the first steps of up to ``--runs`` due runs, each step in its
   own transaction (tasks created through ``task_create``);
3. the daily check again, which must enrol nobody (one run per occurrence).

Prints the figures (ms, customers enrolled, steps per second, SQL queries). Not a test: pytest never
collects it.

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench_play \\
      .venv/bin/python -m bench.playbooks_daily --customers 5000 --runs 1000

With ``--plain`` the customers are plain rows (``bench.plain_customers``: bulk-written in seconds, no demo
history), which is how the 50,000-customer check and the 10,000-step advance are run:

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench_play \\
      .venv/bin/python -m bench.playbooks_daily --plain --customers 50000 --runs 5000

(each run's first advance takes two steps: its task, then the wait that follows it; 5,000 runs, 10,000 steps)
"""

import argparse
import os
import sys
import time

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leme_bench_play"
BENCH_KEYS = {"bench-no-touch-30": ("no_touch_in", 30), "bench-review-14": ("review_due_in", 14)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000, help="Demo customers (seed_demo --customers).")
    parser.add_argument("--runs", type=int, default=1_000, help="How many due runs the advance takes.")
    parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the database first.")
    parser.add_argument(
        "--plain", action="store_true", help="Plain customers written in bulk (bench.plain_customers), not the demo."
    )
    return parser.parse_args(argv)


def playbooks_ready() -> list:
    """The default renewal playbook and the benchmark's own, active and published."""
    from core import clock
    from playbooks import services
    from playbooks.defaults import install_defaults
    from playbooks.models import Playbook, PlaybookStatus, PlaybookVersion

    install_defaults(Playbook, PlaybookVersion, clock.now())
    for key, (kind, days) in BENCH_KEYS.items():
        if not Playbook.objects.filter(key=key).exists():
            steps = [
                {"kind": "task", "title": f"bench {kind}", "description": "", "assignee": "owner", "due_days": 2},
                {"kind": "wait", "days": 7},
                {"kind": "task", "title": f"bench {kind} +7", "description": "", "assignee": "owner", "due_days": 2},
            ]
            playbook = services.playbook_create(
                name=f"bench: {kind} {days}",
                actor=None,
                key=key,
                trigger_kind=kind,
                trigger_params={"days": days},
                steps=steps,
            )
            services.version_publish(playbook=playbook, actor=None)
    keys = ["renewal-90", *BENCH_KEYS]
    Playbook.objects.filter(key__in=keys).update(status=PlaybookStatus.ACTIVE)
    return list(Playbook.objects.filter(key__in=keys))


def timed(function, *args, **kwargs):
    """(result, milliseconds, SQL statements) of one call."""
    from django.db import connection

    count = 0

    def counting(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        started = time.perf_counter()
        result = function(*args, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000
    return result, elapsed, count


def main(argv: list[str] | None = None, figures: dict | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("TEST_DATABASE_URL", DEFAULT_URL)
    url = os.environ["TEST_DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("The benchmark runs on PostgreSQL: set TEST_DATABASE_URL to a postgres:// URL.")
    from bench.portfolio_page import build, ensure_database

    ensure_database(url, rebuild=args.rebuild)

    import django

    django.setup()
    if args.plain:
        from django.core.management import call_command

        from bench import plain_customers

        call_command("migrate", verbosity=0)
        plain_customers.ensure(args.customers)
    else:
        build(args.customers)

    from playbooks import engine
    from playbooks.models import Run, RunStep
    from portfolio.models import Customer, Task

    playbooks = playbooks_ready()
    runs = Run.objects.filter(playbook__in=playbooks)
    cleared = Task.objects.filter(origin="playbook").delete()[0]
    RunStep.objects.filter(run__in=runs).delete()
    runs.delete()
    print(f"{Customer.objects.count()} customers; {len(playbooks)} date playbooks; cleared {cleared} old tasks")

    enrolled, check_ms, check_queries = timed(engine.date_triggers_check)
    print(f"daily check: {enrolled} customers enrolled in {check_ms:.0f} ms ({check_queries} queries)")

    steps, advance_ms, advance_queries = timed(engine.runs_advance_due, limit=args.runs)
    rate = steps / (advance_ms / 1000) if advance_ms else 0
    print(
        f"advance: {steps} steps of up to {args.runs} runs in {advance_ms:.0f} ms "
        f"({rate:.0f} steps/s, {advance_queries / max(steps, 1):.1f} queries a step)"
    )

    again, again_ms, again_queries = timed(engine.date_triggers_check)
    print(f"daily check again: {again} enrolled in {again_ms:.0f} ms ({again_queries} queries)")
    if figures is not None:  # for bench.all's table
        figures.update(enrolled=enrolled, check_ms=check_ms, steps=steps, steps_per_s=rate)
        figures.update(again_enrolled=again, again_ms=again_ms)
    return 0 if again == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
