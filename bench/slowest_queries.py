"""The slowest queries of one page for one demo person, each with its plan: where a page's time goes in SQL.

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench \\
    .venv/bin/python -m bench.slowest_queries --path /onboarding/ --users mariana,lucas --explain 2

Through Django's test client (in-process, real PostgreSQL), logged in as each person: one warm-up request, then one
request whose statements are each timed where Django runs them (``connection.execute_wrapper``); prints every
statement's time (the slowest first, ``--top`` of them) and then ``EXPLAIN (ANALYZE, BUFFERS)`` of the ``--explain``
slowest, run again with the same parameters. Reads only (the login writes its session, as any benchmark's).
"""

import argparse
import time

import django


class StatementLog:
    """An ``execute_wrapper`` that keeps each statement with its parameters and how long it took."""

    def __init__(self) -> None:
        self.statements: list[tuple[float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append(((time.perf_counter() - start) * 1000, sql, params))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/")
    parser.add_argument("--users", default="mariana", help="demo people, comma-separated")
    parser.add_argument("--top", type=int, default=8, help="how many statements to list")
    parser.add_argument("--explain", type=int, default=2, help="how many of the slowest to EXPLAIN")
    args = parser.parse_args()
    django.setup()
    from django.db import connection
    from django.test import Client

    from demo.people import demo_user

    for key in [key.strip() for key in args.users.split(",") if key.strip()]:
        client = Client()
        client.force_login(demo_user(key))
        assert client.get(args.path).status_code == 200  # warm: templates, translations, the connection
        log = StatementLog()
        start = time.perf_counter()
        with connection.execute_wrapper(log):
            assert client.get(args.path).status_code == 200
        total = (time.perf_counter() - start) * 1000
        sql_ms = sum(ms for ms, _, _ in log.statements)
        print(f"== {args.path} as {key}: {total:.1f} ms, {len(log.statements)} queries, {sql_ms:.1f} ms of SQL")
        slowest = sorted(log.statements, key=lambda row: -row[0])
        for ms, sql, _ in slowest[: args.top]:
            print(f"{ms:8.1f} ms  {' '.join(sql.split())[:160]}")
        for ms, sql, params in slowest[: args.explain]:
            print(f"\n-- {ms:.1f} ms: {' '.join(sql.split())}\n")
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                print("\n".join(row[0] for row in cursor.fetchall()))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
