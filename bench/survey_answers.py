"""Benchmark: survey answer-page POSTs per second under concurrent load, and proof that no answer is lost or
recorded twice.

It creates a scratch PostgreSQL database on 127.0.0.1 (dropped at the end unless ``--keep``), migrates it,
seeds customers, contacts, one active NPS campaign and N sent deliveries, starts the app under gunicorn on
127.0.0.1, then:

1. **flow**: T client threads take the deliveries one by one and do what a contact does: GET the emailed
   link ``/s/<token>/?score=S`` (the score must come back checked), then POST the answer; a quarter of them
   POST again with another score (an update);
2. **floor**: the same threads, through the same client code and the same gunicorn workers, GET the smallest
   Django view (``/bench/floor/``: a constant "ok" under Leme's whole middleware stack, routed only by the
   benchmark's settings, ``bench/floor_settings.py``) as many times as the flow made requests, half just before
   the flow and half just after it, so a busy moment of the shared machine weighs on both alike; the flow's
   requests per second over the floor's is the ratio issue 13 sets at 0.5 or more;
3. **contention**: every thread POSTs to the same C extra deliveries at the same moment (the select-for-update
   path: double taps, two tabs);

and checks the database afterwards: exactly one Response per answered delivery, each holding the last score
sent, one timeline entry per POST that changed the answer (updates counted), and one follow-up task per
customer with a detractor answer (the "Detractor recovery" playbook: one run per customer at a time).

    .venv/bin/python bench/survey_answers.py                     # N=2000, 8 threads, 4 gunicorn workers
    .venv/bin/python bench/survey_answers.py --deliveries 5000 --threads 16 --workers 8 --keep
"""

import argparse
import http.client
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# bench.all names its own scratch database for it.
DB_NAME = os.environ.get("LEME_BENCH_ANSWERS_DATABASE", "leme_bench_answers")
ADMIN_URL = f"postgres://postgres@{HOST}:5432/postgres"
DB_URL = f"postgres://postgres@{HOST}:5432/{DB_NAME}"
UPDATE_SHARE = 0.25
FLOOR_TARGET = 0.5  # issue 13: the answer flow's requests per second at least half the floor's
CONTENTION_DELIVERIES = 100
WARM_UP_ANSWERS = 10  # per gunicorn worker, untimed

# The server and this script must share the settings (the token is an HMAC with SECRET_KEY). The local
# settings with DEBUG off: production's code paths, without its HTTPS redirect or collected static files.
# The benchmark's settings are exactly those plus one URL, the floor (bench/floor_settings.py).
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.floor_settings",
    "DEBUG": "false",
    "DATABASE_URL": DB_URL,
    "CONN_MAX_AGE": "60",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": HOST,
    "LOG_LEVEL": "WARNING",
    "CELERY_BROKER_URL": "",
    "REDIS_URL": "",
    # Every client of the benchmark is 127.0.0.1 and the contention round hits one link from every thread:
    # the public pages' rate limits would refuse most of it. They are not what is measured here.
    "LEME_SURVEY_PUBLIC_RATE_ADDRESS": "100000000/minute",
    "LEME_SURVEY_PUBLIC_RATE_TOKEN": "100000000/minute",
}


def scratch_database(*, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def django_setup() -> None:
    os.environ.update(SERVER_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@dataclass
class Plan:
    """What the clients will send to one delivery: its token and the scores, in order."""

    delivery_id: int
    token: str
    language: str
    scores: list[int]


def seed(deliveries: int, contention: int, rng: random.Random) -> tuple[list[Plan], list[Plan]]:
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Role, User
    from portfolio.models import Contact
    from portfolio.services import customer_create
    from surveys import tokens
    from surveys.models import CampaignStatus, Delivery
    from surveys.services import campaign_create

    call_command("migrate", verbosity=0, interactive=False)
    admin = User.objects.create_user("admin@bench.leme", "bench-password-123", full_name="Bench Admin", role=Role.ADMIN)
    csms = [
        User.objects.create_user(f"csm{i}@bench.leme", "bench-password-123", full_name=f"CSM {i}", role=Role.CSM)
        for i in range(10)
    ]
    total = deliveries + contention
    per_customer = 10
    customers = [
        customer_create(name=f"Cliente {i} Ltda", actor=None, owner=csms[i % len(csms)])
        for i in range((total + per_customer - 1) // per_customer)
    ]
    contacts = Contact.objects.bulk_create(
        Contact(
            customer=customers[i // per_customer],
            name=f"Contato {i}",
            email=f"contato{i}@cliente.com.br",
            language="en" if i % 3 == 0 else "pt-br",
        )
        for i in range(total)
    )
    campaign = campaign_create(name="NPS bench", kind="nps", actor=admin)
    campaign.status = CampaignStatus.ACTIVE
    campaign.save(update_fields=["status"])
    now = timezone.now()
    rows, token_of = [], {}
    for contact in contacts:
        salt, token_hash = tokens.salt_and_hash()
        token_of[salt] = tokens.token_for(salt)
        rows.append(
            Delivery(
                campaign=campaign,
                contact=contact,
                customer_id=contact.customer_id,
                email=contact.email,
                language=contact.language,
                token_salt=salt,
                token_hash=token_hash,
                status="sent",
                sent_at=now,
                expires_at=now + timedelta(days=30),
            )
        )
    created = Delivery.objects.bulk_create(rows, batch_size=1000)
    plans = []
    for delivery in created:
        scores = [rng.randint(0, 10)]
        if rng.random() < UPDATE_SHARE:
            scores.append(rng.choice([s for s in range(11) if s != scores[0]]))
        plans.append(Plan(delivery.pk, token_of[delivery.token_salt], delivery.language, scores))
    return plans[:deliveries], plans[deliveries:]


# --- The server -------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def use_broker(url: str) -> str:
    """Serve and work as production does: the web process only queues the answers' follow-ups (the bell, the
    "Detractor recovery" playbook) on ``url``, and a Celery worker beside gunicorn runs them. Every queue is the
    benchmark's own (``leme-bench-answers-<random>``), so nothing else's messages are read or left behind. Returns
    the default queue's name."""
    queue = f"leme-bench-answers-{secrets.token_hex(4)}"
    SERVER_ENV.update(CELERY_BROKER_URL=url, CELERY_TASK_DEFAULT_QUEUE=queue)
    return queue


def start_worker(log: Path, *, idle: bool = False) -> subprocess.Popen:
    """One Celery worker (prefork, one process: it shares the two CPUs with gunicorn) on the benchmark's queues;
    ``idle``: on an empty queue of its own, until :func:`worker_consume` hands it the benchmark's (it starts, imports
    and connects first, so what it costs afterwards is the follow-ups' alone)."""
    from config.settings.base import celery_queues

    queues = ",".join(celery_queues(SERVER_ENV["CELERY_TASK_DEFAULT_QUEUE"]).values())
    if idle:
        queues = f"{SERVER_ENV['CELERY_TASK_DEFAULT_QUEUE']}-idle"
    command = [str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", "worker", "-c", "1", "-Q", queues]
    command += ["-n", f"{SERVER_ENV['CELERY_TASK_DEFAULT_QUEUE']}@%h"]
    command += ["-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
        command,
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def worker_ready(worker: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until the worker answers (started, imported, connected), so that its start is not timed."""
    from celery import current_app

    name = SERVER_ENV["CELERY_TASK_DEFAULT_QUEUE"]
    deadline = time.monotonic() + timeout
    while not current_app.control.ping(destination=[f"{name}@{socket.gethostname()}"], timeout=1.0):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the Celery worker did not start")


def worker_consume() -> None:
    """Hand the idle worker the benchmark's queues (Celery's remote control, through the broker)."""
    from celery import current_app

    from config.settings.base import celery_queues

    name = SERVER_ENV["CELERY_TASK_DEFAULT_QUEUE"]
    for queue in celery_queues(name).values():
        replies = current_app.control.add_consumer(
            queue, destination=[f"{name}@{socket.gethostname()}"], reply=True, timeout=5.0
        )
        if not replies:
            raise SystemExit(f"the Celery worker did not take the queue {queue}")


def drain(url: str, queue: str, worker: subprocess.Popen, timeout: float = 600) -> float:
    """Wait until the worker has run every queued follow-up (its queue empty, and nothing unacknowledged, for a
    second); the seconds it took after the last request."""
    import redis

    from config.settings.base import celery_queues

    client = redis.Redis.from_url(url)
    keys = list(celery_queues(queue).values())
    started = time.perf_counter()
    quiet_since = None
    while time.perf_counter() - started < timeout:
        if worker.poll() is not None:
            raise SystemExit(f"the Celery worker stopped (exit {worker.returncode})")
        waiting = sum(client.llen(key) for key in keys) + client.hlen("unacked")
        if waiting == 0:
            quiet_since = quiet_since or time.perf_counter()
            if time.perf_counter() - quiet_since >= 1.0:
                return time.perf_counter() - started
        else:
            quiet_since = None
        time.sleep(0.1)
    raise SystemExit(f"the worker did not finish the follow-ups in {timeout:.0f} s")


def start_server(port: int, workers: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV}
    server = subprocess.Popen(  # noqa: S603 - our own app, fixed arguments
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not start; see {log}:\n{log.read_text()[-3000:]}")


# --- Where the machine's CPU went ------------------------------------------------------------------------------

CPU_GROUPS = ("client", "gunicorn", "postgres", "worker", "redis")


def cpu_seconds(server: subprocess.Popen, worker: subprocess.Popen | None) -> dict[str, float]:
    """CPU seconds used so far by this process (the client threads), gunicorn (its master and workers), the
    Celery worker, Redis and PostgreSQL (the benchmark database's backends and the server's own writers: WAL,
    checkpoints), read from ``/proc``. Between two readings it says what each request cost the machine, not just
    the web process; other databases' backends on the same server are left out."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(CPU_GROUPS, 0.0)
    own = os.times()
    totals["client"] = own.user + own.system
    roots = {server.pid: "gunicorn", **({worker.pid: "worker"} if worker is not None else {})}
    processes = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        processes[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, command)
    for pid, (parent, seconds, command) in processes.items():
        group = roots.get(pid) or roots.get(parent)
        if group is None and command.startswith("postgres: "):
            # "postgres: [16/main: ]<user> <database> <client> <state>", or one of the server's own processes
            # ("postgres: 16/main: walwriter")
            backend = command.removeprefix("postgres: ").split()
            if backend and backend[0].endswith(":"):
                backend = backend[1:]
            if backend[:2] == ["autovacuum", "worker"]:
                backend = backend[1:]  # "autovacuum worker <database>": counted for its database, as a backend
            if len(backend) < 3 or backend[1] == DB_NAME:
                group = "postgres"
        elif group is None and command.startswith("redis-server"):
            group = "redis"
        if group is not None:
            totals[group] += seconds
    return totals


def cpu_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    """Each group's CPU milliseconds per request between two readings."""
    return {group: (after[group] - before[group]) * 1000 / max(requests, 1) for group in CPU_GROUPS}


# --- The clients ------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    get_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, status: int) -> None:
        with self.lock:
            (self.get_ms if kind == "GET" else self.post_ms).append(ms)
            self.statuses[f"{kind} {status}"] += 1


def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {}
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    start = time.perf_counter()
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        content = response.read()
        return response.status, content, (time.perf_counter() - start) * 1000
    finally:
        conn.close()


def answer_flow(port: int, plan: Plan, tally: Tally) -> None:
    path = f"/s/{plan.token}/"
    status, content, ms = request(port, "GET", f"{path}?score={plan.scores[0]}")
    tally.add("GET", ms, status)
    if status != 200 or f'value="{plan.scores[0]}" required checked'.encode() not in content:
        tally.errors.append(f"GET {plan.delivery_id}: {status}, score not checked")
    for n, score in enumerate(plan.scores):
        status, _, ms = request(port, "POST", path, {"score": score, "comment": f"resposta {n} de {plan.delivery_id}"})
        tally.add("POST", ms, status)
        if status != 303:
            tally.errors.append(f"POST {plan.delivery_id}: {status}")


def floor_gets(port: int, path: str, count: int, threads: int, tally: Tally) -> float:
    """``count`` GETs of the floor view from ``threads`` threads, with the flow's client code; the seconds taken."""

    def one(_: int) -> None:
        status, content, ms = request(port, "GET", path)
        tally.add("GET", ms, status)
        if status != 200 or content != b"ok":
            tally.errors.append(f"floor GET: {status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - started


def contended_posts(port: int, plans: list[Plan], thread: int, barrier: threading.Barrier, tally: Tally) -> None:
    for plan in plans:
        barrier.wait()
        status, _, ms = request(port, "POST", f"/s/{plan.token}/", {"score": (plan.delivery_id + thread) % 11})
        tally.add("POST", ms, status)
        if status != 303:
            tally.errors.append(f"contended POST {plan.delivery_id}: {status}")


# --- Checking -----------------------------------------------------------------------------------------------------


def verify(flow: list[Plan], contention: list[Plan], threads: int) -> list[str]:
    from django.db.models import Count

    from portfolio.models import Activity, Task
    from surveys.models import Response

    problems = []
    responses = {r.delivery_id: r for r in Response.objects.all()}
    answered = {p.delivery_id for p in flow + contention}
    if set(responses) != answered:
        problems.append(f"{len(answered - set(responses))} answers lost, {len(set(responses) - answered)} unexpected")
    doubled = Response.objects.values("delivery").annotate(n=Count("pk")).filter(n__gt=1).count()
    if doubled:
        problems.append(f"{doubled} deliveries with more than one response")
    wrong = [
        p.delivery_id
        for p in flow
        if p.delivery_id in responses
        and (
            responses[p.delivery_id].score != p.scores[-1]
            or responses[p.delivery_id].comment != f"resposta {len(p.scores) - 1} de {p.delivery_id}"
        )
    ]
    if wrong:
        problems.append(f"{len(wrong)} responses do not hold the last answer sent (e.g. delivery {wrong[0]})")
    for p in contention:
        sent = {(p.delivery_id + t) % 11 for t in range(threads)}
        if p.delivery_id in responses and responses[p.delivery_id].score not in sent:
            problems.append(f"contended delivery {p.delivery_id} holds a score nobody sent")
    # A timeline entry per answer that changed something: every flow POST does (a second one sends another
    # score); of the contended POSTs, one that repeats the score just written adds none, so between one per
    # distinct score sent and one per POST.
    flow_posts = sum(len(p.scores) for p in flow)
    distinct = sum(len({(p.delivery_id + t) % 11 for t in range(threads)}) for p in contention)
    low, high = flow_posts + distinct, flow_posts + len(contention) * threads
    entries = Activity.objects.filter(kind="survey").count()
    if not low <= entries <= high:
        problems.append(f"{entries} timeline entries for between {low} and {high} changed answers")
    changed = Activity.objects.filter(kind="survey").exclude(data__previous_score=None).count()
    if changed != entries - len(answered):
        problems.append(f"{changed} timeline entries say 'changed' for {entries - len(answered)} updates")
    # The "Detractor recovery" playbook gives a customer's first detractor answer its follow-up task (one run
    # per customer at a time: a second detractor at the same customer adds none).
    detractors = [responses[p.delivery_id].pk for p in flow if any(s <= 6 for s in p.scores)]
    expected_tasks = Response.objects.filter(pk__in=detractors).order_by().values("customer_id").distinct().count()
    flow_tasks = Task.objects.filter(
        origin="playbook",
        pk__in=Response.objects.filter(pk__in=detractors, follow_up_task_id__isnull=False).values("follow_up_task_id"),
    ).count()
    if flow_tasks != expected_tasks:
        problems.append(f"{flow_tasks} follow-up tasks for the {expected_tasks} customers with a detractor answer")
    return problems


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(figures: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database afterwards")
    parser.add_argument(
        "--broker",
        default=os.environ.get("LEME_BENCH_BROKER_URL", ""),
        help="a Redis URL: queue the follow-ups there and run them in a Celery worker beside gunicorn, as in "
        "production (default: $LEME_BENCH_BROKER_URL; without one, they run in the web process after the commit)",
    )
    parser.add_argument(
        "--worker-runs",
        choices=("after", "during"),
        default=os.environ.get("LEME_BENCH_WORKER_RUNS", "after"),
        help="with a broker: the worker starts once the timed rounds are over and runs the follow-ups they queued, "
        "timed on its own (after: the page's rate is the web's alone, as with a worker on its own machine), or "
        "runs beside gunicorn on the same CPUs throughout (during)",
    )
    args = parser.parse_args()
    queue = use_broker(args.broker) if args.broker else ""
    rng = random.Random(args.seed)

    print(f"==> scratch database {DB_NAME} on {HOST}")
    scratch_database()
    django_setup()
    started = time.perf_counter()
    warm = args.workers * WARM_UP_ANSWERS
    flow, contention = seed(warm + args.deliveries, CONTENTION_DELIVERIES, rng)
    # The first answers warm each web worker's answer path up (its template, prepared queries, the broker's
    # connection) untimed, as a long-running server is; they are checked with the others.
    warm_up, flow = flow[:warm], flow[warm:]
    print(f"    seeded {warm + len(flow) + len(contention)} deliveries in {time.perf_counter() - started:.1f}s")

    port = free_port()
    log = Path(tempfile.gettempdir()) / f"leme-bench-answers-{port}.log"
    server = start_server(port, args.workers, log)
    print(f"==> gunicorn on {HOST}:{port}, {args.workers} sync workers; {args.threads} client threads")
    worker = None
    if queue and args.worker_runs == "during":
        worker = start_worker(log.with_suffix(".worker.log"))
        print(f"==> a Celery worker on {args.broker} (queue {queue}) runs the follow-ups beside gunicorn")
    elif queue:
        worker = start_worker(log.with_suffix(".worker.log"), idle=True)
        print(f"==> the follow-ups queue on {args.broker} (queue {queue}); a Celery worker, idle until the rounds")
        print("    are over, runs them then")
    if worker is not None:
        worker_ready(worker)
    else:
        print("==> no broker: the follow-ups run in the web process, after each answer's commit")
    drained = 0.0
    try:
        # Warm every worker up (imports, connections, templates) before timing.
        for _ in range(args.workers * 4):
            request(port, "GET", "/s/warm-up-unknown-token/")

        from bench.floor_urls import FLOOR_PATH

        for _ in range(args.workers * 4):
            request(port, "GET", FLOOR_PATH)
        untimed = Tally()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(lambda plan: answer_flow(port, plan, untimed), warm_up))
        # The floor as many requests as the flow makes, half before it and half after it.
        floor_requests = sum(1 + len(p.scores) for p in flow)
        floor = Tally()
        cpu = [cpu_seconds(server, worker)]
        floor_seconds = floor_gets(port, FLOOR_PATH, floor_requests // 2, args.threads, floor)
        cpu.append(cpu_seconds(server, worker))

        tally = Tally()
        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(lambda plan: answer_flow(port, plan, tally), flow))
        flow_seconds = time.perf_counter() - started
        flow_posts, flow_gets = len(tally.post_ms), len(tally.get_ms)
        cpu.append(cpu_seconds(server, worker))

        floor_seconds += floor_gets(port, FLOOR_PATH, floor_requests - floor_requests // 2, args.threads, floor)
        cpu.append(cpu_seconds(server, worker))

        contended = Tally()
        barrier = threading.Barrier(args.threads)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(lambda t: contended_posts(port, contention, t, barrier, contended), range(args.threads)))
        contention_seconds = time.perf_counter() - started
        if worker is not None and args.worker_runs == "after":
            worker_consume()
        if worker is not None:
            drained = drain(args.broker, queue, worker)
        cpu.append(cpu_seconds(server, worker))
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)

    problems = untimed.errors + tally.errors + floor.errors + contended.errors
    problems += verify(warm_up + flow, contention, args.threads)

    updates = sum(len(p.scores) - 1 for p in flow)
    print(f"\n== flow: {len(flow)} deliveries, GET then POST ({updates} answered twice)")
    print(f"   {flow_gets} GETs + {flow_posts} POSTs in {flow_seconds:.2f}s")
    print(f"   answer POSTs/s (with their GETs): {flow_posts / flow_seconds:,.0f}")
    print(f"   requests/s: {(flow_gets + flow_posts) / flow_seconds:,.0f}")
    print(
        "   POST latency ms p50/p95/p99: "
        f"{statistics.median(tally.post_ms):.1f} / {percentile(tally.post_ms, 0.95):.1f} / "
        f"{percentile(tally.post_ms, 0.99):.1f}"
    )
    print(
        "   GET latency ms p50/p95/p99:  "
        f"{statistics.median(tally.get_ms):.1f} / {percentile(tally.get_ms, 0.95):.1f} / "
        f"{percentile(tally.get_ms, 0.99):.1f}"
    )
    floor_rate = len(floor.get_ms) / floor_seconds
    flow_rate = (flow_gets + flow_posts) / flow_seconds
    ratio = flow_rate / floor_rate
    print("\n== floor: the smallest Django view (a constant 'ok'), same server, workers, client and threads")
    print(f"   {len(floor.get_ms)} GETs in {floor_seconds:.2f}s, half before the flow and half after")
    print(
        "   GET latency ms p50/p95/p99:  "
        f"{statistics.median(floor.get_ms):.1f} / {percentile(floor.get_ms, 0.95):.1f} / "
        f"{percentile(floor.get_ms, 0.99):.1f}"
    )
    print(f"   floor requests/s:                  {floor_rate:,.0f}")
    print(f"   answer flow requests/s (GET+POST): {flow_rate:,.0f}")
    verdict = "met" if ratio >= FLOOR_TARGET else "not met"
    print(f"   ratio flow / floor: {ratio:.2f} (target ≥ {FLOOR_TARGET}× the floor: {verdict})")
    floor_cpu = {
        group: cpu_per_request(cpu[0], cpu[1], 1)[group] + cpu_per_request(cpu[2], cpu[3], 1)[group]
        for group in CPU_GROUPS
    }
    floor_cpu = {group: ms / len(floor.get_ms) for group, ms in floor_cpu.items()}
    flow_cpu = cpu_per_request(cpu[1], cpu[2], flow_gets + flow_posts)
    print("\n== the machine's CPU per request, ms (client threads, gunicorn, PostgreSQL, Celery worker, Redis)")
    print("   " + "".join(f"{group:>10}" for group in (*CPU_GROUPS, "all")))
    for name, row in (("floor", floor_cpu), ("flow", flow_cpu)):
        print(f"   {name:<6}" + "".join(f"{row[group]:10.2f}" for group in CPU_GROUPS) + f"{sum(row.values()):10.2f}")
    if worker is not None:
        # Everything the worker did for the answers (the warm-up's and the contention round's too), whenever it ran
        # them.
        answered = len(untimed.post_ms) + flow_posts + len(contended.post_ms)
        followed = (cpu[4]["worker"] - cpu[1]["worker"]) * 1000 / max(answered, 1)
        print(f"   the worker's follow-ups, all told: {followed:.2f} ms per answer POST")
    print(f"\n== contention: {args.threads} threads POST to the same delivery at once, {len(contention)} times")
    contended_rate = len(contended.post_ms) / contention_seconds
    print(f"   {len(contended.post_ms)} POSTs in {contention_seconds:.2f}s ({contended_rate:,.0f}/s)")
    print(
        "   POST latency ms p50/p95/p99: "
        f"{statistics.median(contended.post_ms):.1f} / {percentile(contended.post_ms, 0.95):.1f} / "
        f"{percentile(contended.post_ms, 0.99):.1f}"
    )
    if worker is not None and args.worker_runs == "during":
        print(f"\n== the worker finished the follow-ups {drained:.1f}s after the last request")
    elif worker is not None:
        print(f"\n== the worker, started after the rounds, ran their follow-ups in {drained:.1f}s")
    statuses = tally.statuses + contended.statuses
    print(f"\n== statuses: {dict(sorted(statuses.items()))}; floor {dict(floor.statuses)}")

    from surveys.models import Response

    answered = len(warm_up) + len(flow) + len(contention)
    print(f"== responses: {Response.objects.count()} for {answered} deliveries answered (warm-up included)")
    if not args.keep:
        from django.db import connections

        connections.close_all()
        scratch_database(drop_only=True)
    if figures is not None:  # for bench.all's table
        figures.update(posts_per_s=flow_posts / flow_seconds, requests_per_s=flow_rate, floor_per_s=floor_rate)
        figures.update(floor_cpu_ms=sum(floor_cpu.values()), flow_cpu_ms=sum(flow_cpu.values()))
        figures.update(post_p95_ms=percentile(tally.post_ms, 0.95), problems=len(problems))
    if problems:
        print(f"\nFAILED: {len(problems)} problems")
        for problem in problems[:20]:
            print(f"  - {problem}")
        print(f"server log: {log}")
        return 1
    print("== verified: no answer lost or doubled; every update counted; one follow-up per detractor customer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
