"""Times My day (``/``) per person, and how much of it is SQL, on a seeded demo database.

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench .venv/bin/python -m bench.my_day

Seed the database first (``manage.py migrate``, ``manage.py seed_demo --customers N``). Through Django's test
client (in-process, DEBUG off, real PostgreSQL): after two warm-up requests, N requests per person; prints the
median time per request, the median time its SQL took (each statement timed where Django runs it, through
``connection.execute_wrapper``), that share, the median CPU time of this process per request (Python: the ORM,
the template; ``time.process_time``, which a loaded machine blurs less than the wall clock) and the number of
queries. ``--profile lucas`` prints instead the
functions a cProfile of N requests as that person spent the most time in (cumulative, then own time).
"""

import argparse
import cProfile
import pstats
import statistics
import time

import django


class SqlTimer:
    """An ``execute_wrapper`` that adds up the time each statement takes and counts them."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


def main(figures: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--users", default="lucas,mariana", help="the demo people to time it for, comma-separated")
    parser.add_argument("--profile", default="", help="profile the requests of this demo person instead")
    parser.add_argument("--lines", type=int, default=40, help="how many functions the profile lists")
    args = parser.parse_args()
    django.setup()
    from django.db import connection
    from django.test import Client

    from demo.people import demo_user

    def client_of(key: str) -> Client:
        client = Client()
        client.force_login(demo_user(key))
        for _ in range(2):  # warm up: templates, translations, the connection
            assert client.get("/").status_code == 200
        return client

    if args.profile:
        client = client_of(args.profile)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            client.get("/")
        profile.disable()
        stats = pstats.Stats(profile).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.lines)
        stats.sort_stats("tottime").print_stats(args.lines)
        return 0

    print(f"{'person':<10} {'median ms':>10} {'SQL ms':>8} {'SQL share':>10} {'CPU ms':>8} {'queries':>8}")
    for key in [key.strip() for key in args.users.split(",") if key.strip()]:
        client = client_of(key)
        times, sql_times, cpu_times = [], [], []
        for _ in range(args.requests):
            timer = SqlTimer()
            start, cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(timer):
                response = client.get("/")
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu) * 1000)
            sql_times.append(timer.seconds * 1000)
            assert response.status_code == 200
        median, sql, cpu = statistics.median(times), statistics.median(sql_times), statistics.median(cpu_times)
        print(f"{key:<10} {median:>10.1f} {sql:>8.1f} {sql / median:>10.0%} {cpu:>8.1f} {timer.count:>8}")
        if figures is not None:
            figures.setdefault("my_day", []).append(
                {"user": key, "median_ms": median, "sql_ms": sql, "cpu_ms": cpu, "queries": timer.count}
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
