"""In-process profile of the survey answer flow: where one GET ``/s/<token>/?score=S`` and its POST spend their time.

It seeds a scratch database exactly as ``bench/survey_answers.py`` does (same settings: ``bench.floor_settings``,
DEBUG off, no broker, locmem cache), then drives the flow with Django's test client, no network and no gunicorn,
and prints per request: the median and p90 time (wall, and this process's CPU), the queries (BEGIN/COMMIT
included, as the log shows them), and the same for the floor view. With ``--profile`` it cProfiles the timed
pairs and prints the top functions by cumulative and own time.

    .venv/bin/python -m bench.survey_answers_profile                       # 150 pairs after 30 warm-up ones
    .venv/bin/python -m bench.survey_answers_profile --profile --top 40
    .venv/bin/python -m bench.survey_answers_profile --profile --cpu        # by CPU time: PostgreSQL's waits left out
    .venv/bin/python -m bench.survey_answers_profile --no-follow-ups      # the detractor follow-ups left out

Without a broker the detractor follow-ups (the bell, the "Detractor recovery" playbook) run eagerly inside the
POST, after its commit, as in the benchmark's server; ``--no-follow-ups`` unsubscribes them, to see the answer's
own cost (what a web process costs in production, where it only queues them).
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
from collections import defaultdict

from bench import survey_answers

DEFAULT_DB = "leme_bench_answers_profile"


def median_p90(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{statistics.median(ordered):6.2f} / {ordered[int(0.9 * (len(ordered) - 1))]:6.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=150, help="timed GET+POST pairs")
    parser.add_argument("--warm", type=int, default=30, help="untimed pairs first")
    parser.add_argument("--database", default=DEFAULT_DB, help="the scratch database's name (dropped at the end)")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed pairs")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--cpu", action="store_true", help="profile by this process's CPU time instead of wall time (no waits)"
    )
    parser.add_argument("--no-follow-ups", action="store_true", help="leave the detractor follow-ups out")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--save", default="", help="write the profile's raw stats to this file (for pstats)")
    args = parser.parse_args()

    survey_answers.DB_NAME = args.database
    survey_answers.DB_URL = survey_answers.DB_URL.rsplit("/", 1)[0] + f"/{args.database}"
    survey_answers.SERVER_ENV["DATABASE_URL"] = survey_answers.DB_URL
    survey_answers.scratch_database()
    survey_answers.django_setup()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor_settings")

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from bench.floor_urls import FLOOR_PATH

    setup_test_environment()  # the test client's response.context and ALLOWED_HOSTS "testserver"
    assert not settings.DEBUG, "the benchmark's server runs with DEBUG off"
    if args.no_follow_ups:
        from core import events
        from surveys.events import DetractorAnswered

        events._subscribers[DetractorAnswered] = []

    flow, _contention = survey_answers.seed(args.warm + args.pairs, 0, random.Random(7))
    client = Client()

    def pair(plan: survey_answers.Plan, times: dict, queries: dict) -> None:
        path = f"/s/{plan.token}/"
        answer = {"score": plan.scores[0], "comment": f"resposta de {plan.delivery_id}"}
        for kind, call in (
            ("GET", lambda: client.get(path, {"score": plan.scores[0]})),
            ("POST", lambda: client.post(path, answer)),
        ):
            with CaptureQueriesContext(connection) as captured:
                started, cpu = time.perf_counter(), time.process_time()
                response = call()
                times[kind].append((time.perf_counter() - started) * 1000)
                times[f"{kind} cpu"].append((time.process_time() - cpu) * 1000)
            queries[kind].append(len(captured))
            expected = 200 if kind == "GET" else 303
            if response.status_code != expected:
                raise SystemExit(f"{kind} {path}: {response.status_code}")
        started, cpu = time.perf_counter(), time.process_time()
        client.get(FLOOR_PATH)
        times["floor"].append((time.perf_counter() - started) * 1000)
        times["floor cpu"].append((time.process_time() - cpu) * 1000)

    for plan in flow[: args.warm]:
        pair(plan, defaultdict(list), {"GET": [], "POST": []})
    times: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, list[int]] = {"GET": [], "POST": []}
    profiler = None
    if args.profile:
        profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    if profiler:
        profiler.enable()
    for plan in flow[args.warm :]:
        pair(plan, times, queries)
    if profiler:
        profiler.disable()

    detractors = sum(1 for p in flow[args.warm :] if p.scores[0] <= 6)
    print(f"\n== {args.pairs} GET+POST pairs in-process ({detractors} detractor answers), after {args.warm} warm-up")
    print(f"   follow-ups: {'left out' if args.no_follow_ups else 'run eagerly in the request, after the commit'}")
    # Wall time waits on PostgreSQL too (on the same machine); CPU time is this process's alone (Django's work).
    print("   request        wall ms median / p90    CPU ms median / p90    queries min-max")
    print(f"   floor          {median_p90(times['floor'])}        {median_p90(times['floor cpu'])}")
    for kind in ("GET", "POST"):
        print(
            f"   {kind:<14} {median_p90(times[kind])}        {median_p90(times[f'{kind} cpu'])}"
            f"       {min(queries[kind])}-{max(queries[kind])}"
        )
    wall = statistics.median(times["GET"]) + statistics.median(times["POST"])
    cpu = statistics.median(times["GET cpu"]) + statistics.median(times["POST cpu"])
    print(f"   GET+POST       {wall:6.2f}                 {cpu:6.2f}  (medians)")
    if profiler and args.save:
        profiler.dump_stats(args.save)
    if profiler:
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(f"\n== cProfile by {order}\n{out.getvalue()}")

    if not args.keep:
        from django.db import connections

        connections.close_all()
        survey_answers.scratch_database(drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
