"""Benchmark: survey emails through Leme's sender against plain smtplib, to a local SMTP sink.

    cd /work/main && DJANGO_SETTINGS_MODULE=config.settings.test \\
        TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench_send \\
        .venv/bin/python -m bench.survey_send [--emails 10000] [--turns 2] [--reply-delay 0.002] [--profile]

The script drops and re-creates that scratch database (its name must contain "bench_send"), migrates it,
seeds one CSM, 100 customers and N contacts (half pt-BR, half English), and starts an aiosmtpd sink on
127.0.0.1 in a child process (so the sink does not share the sender's interpreter). Then Leme and smtplib
take turns, twice each (``--turns N``: N times each):

1. Leme (a new NPS campaign to everyone, planned untimed): ``surveys.tasks.deliveries_send`` runs eagerly in
   this process with ``LEME_SURVEY_SEND_RATE=0`` (timed): the email built from its frame, the SMTP exchange,
   and its "sent" mark committed behind it by the companion connection, in batches of
   ``LEME_SURVEY_BATCH_SIZE``, on ``LEME_SURVEY_SMTP_CONNECTIONS`` connections at once (set it in the
   environment to compare); every mark is committed when the timing stops.
2. smtplib: the same N messages, rendered to bytes beforehand (not timed), sent with ``sendmail`` on one
   ``smtplib.SMTP`` connection (timed).

It prints emails per second and the ratio Leme / smtplib per turn and over all turns (target: at least
1.0), with the load average and the CPU time each side used (this process, the sink), and checks that the
sink received every email and every delivery is marked sent. ``--reply-delay`` makes the sink take that long
to accept each message, as a relay across a network does.
"""

import argparse
import asyncio
import multiprocessing
import os
import smtplib
import socket
import sys
import time
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sink(port: int, received, ready, reply_delay: float) -> None:
    """An SMTP server that accepts everything and counts it, answering DATA after ``reply_delay`` s."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            if reply_delay:
                await asyncio.sleep(reply_delay)
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(10**9))
    finally:
        controller.stop()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) used so far by this process (all its threads) and by process ``pid``."""
    own = os.times()
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return own.user + own.system, (int(fields[11]) + int(fields[12])) / ticks


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench_send" not in name:
        sys.exit(f"refusing to drop {name!r}: this benchmark's scratch database name must contain 'bench_send'")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(emails: int):
    from accounts.models import Role
    from accounts.services import user_create
    from portfolio import services as portfolio_services
    from portfolio.models import Contact

    csm = user_create(email="lucas@bench.leme.app", full_name="Lucas Almeida")
    admin = user_create(email="admin@bench.leme.app", full_name="Renata Azevedo", role=Role.ADMIN)
    customers = [
        portfolio_services.customer_create(actor=None, name=f"Cliente {n} Ltda", owner=csm, segment="mid")
        for n in range(100)
    ]
    # Seeding only: the contacts are plain rows, in bulk, so the seed takes seconds.
    Contact.objects.bulk_create(
        [
            Contact(
                customer=customers[n % len(customers)],
                name=f"Pessoa {n} Silva",
                email=f"pessoa{n}@cliente{n % len(customers)}.com.br",
                language="en" if n % 2 else "pt-br",
            )
            for n in range(emails)
        ],
        batch_size=2000,
    )
    return admin


def campaign_for(admin):
    from django.utils import timezone

    from surveys import services as survey_services

    # No fatigue: every run surveys the same contacts again.
    campaign = survey_services.campaign_create(
        name="Bench NPS", kind="nps", actor=admin, mode="at", send_at=timezone.now(), company="Acme", fatigue_days=0
    )
    return survey_services.campaign_activate(campaign=campaign, actor=admin, confirm_short_fatigue=True)


def render_all(emails, campaign) -> list[tuple[str, bytes]]:
    """Every message of the campaign as bytes, the way Django's own message() writes it (not timed)."""
    from surveys.models import Delivery

    deliveries = Delivery.objects.filter(campaign=campaign).select_related(
        "contact__customer", "customer__owner", "employee"
    )
    return [
        (d.email, emails.message(d).message().as_bytes(linesep="\r\n")) for d in deliveries.iterator(chunk_size=2000)
    ]


def main(figures: dict | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of Leme's run")
    parser.add_argument("--turns", type=int, default=2, help="turns each, alternating (default 2)")
    parser.add_argument(
        "--reply-delay",
        type=float,
        default=0.0,
        help="seconds the sink waits before accepting each message, like a relay across a network",
    )
    args = parser.parse_args()

    database_url = os.environ.get("TEST_DATABASE_URL", "")
    if os.environ.get("DJANGO_SETTINGS_MODULE") != "config.settings.test" or not database_url:
        sys.exit("set DJANGO_SETTINGS_MODULE=config.settings.test and TEST_DATABASE_URL (see the docstring)")

    port = free_port()
    received = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    sink_process = multiprocessing.Process(target=sink, args=(port, received, ready, args.reply_delay), daemon=True)
    sink_process.start()
    ready.wait(10)

    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ["LEME_SURVEY_SEND_RATE"] = "0"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    recreate_database(database_url)

    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.core.management import call_command

    from surveys import messages, planning, tasks
    from surveys.models import Delivery, DeliveryStatus

    logging.disable(logging.INFO)
    call_command("migrate", verbosity=0)
    admin = seed(args.emails)

    # Leme and smtplib take turns (twice each unless --turns says otherwise), so that a busy moment of the
    # machine weighs on both alike.
    load_before = os.getloadavg()
    emails = None
    leme_seconds, smtplib_seconds = [], []
    leme_cpu, smtplib_cpu = [], []  # per turn: (this process, the sink) CPU seconds
    for turn in range(args.turns):
        campaign = campaign_for(admin)
        planned = planning.campaign_plan(campaign_id=campaign.pk)
        assert planned is not None
        assert planned.pending == args.emails, planned
        received.value = 0
        profiler = None
        if args.profile and turn == 0:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu = cpu_seconds(sink_process.pid)
        started = time.perf_counter()
        tasks.deliveries_send.apply(args=(campaign.pk,)).get()
        leme_seconds.append(time.perf_counter() - started)
        leme_cpu.append([after - before for before, after in zip(cpu, cpu_seconds(sink_process.pid), strict=True)])
        if profiler:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        sent = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).count()
        assert sent == args.emails, f"{sent} of {args.emails} deliveries sent"
        assert received.value == args.emails, f"the sink received {received.value}"

        # The same messages through plain smtplib on one connection
        if emails is None:
            emails = render_all(messages.SurveyEmails(campaign), campaign)
        sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        received.value = 0
        cpu = cpu_seconds(sink_process.pid)
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for recipient, raw in emails:
                smtp.sendmail(sender, [recipient], raw)
        smtplib_seconds.append(time.perf_counter() - started)
        smtplib_cpu.append([after - before for before, after in zip(cpu, cpu_seconds(sink_process.pid), strict=True)])
        assert received.value == args.emails, f"the sink received {received.value}"

    print(
        f"emails: {args.emails}, batch size {settings.LEME_SURVEY_BATCH_SIZE}, "
        f"{settings.LEME_SURVEY_SMTP_CONNECTIONS} SMTP connections, rate limit off, "
        f"sink reply delay {args.reply_delay * 1000:.1f} ms"
    )
    for turn, (leme, plain) in enumerate(zip(leme_seconds, smtplib_seconds, strict=True), start=1):
        leme_rate, plain_rate = args.emails / leme, args.emails / plain
        (leme_own, leme_sink), (plain_own, plain_sink) = leme_cpu[turn - 1], smtplib_cpu[turn - 1]
        print(
            f"turn {turn}: Leme deliveries_send {leme:6.2f} s {leme_rate:6.0f} emails/s | "
            f"smtplib {plain:6.2f} s {plain_rate:6.0f} emails/s | ratio {leme_rate / plain_rate:.2f} | "
            f"CPU ms an email, sender + sink: Leme {leme_own * 1000 / args.emails:.2f} + "
            f"{leme_sink * 1000 / args.emails:.2f}, smtplib {plain_own * 1000 / args.emails:.2f} + "
            f"{plain_sink * 1000 / args.emails:.2f}"
        )
    total = args.emails * args.turns
    leme_rate, plain_rate = total / sum(leme_seconds), total / sum(smtplib_seconds)
    print(
        f"all turns: Leme {leme_rate:.0f} emails/s | smtplib {plain_rate:.0f} emails/s | "
        f"ratio {leme_rate / plain_rate:.2f} (target >= 1.0) | load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    if figures is not None:  # for bench.all's table
        figures.update(emails=args.emails, leme_s=leme_seconds, smtplib_s=smtplib_seconds)
    sink_process.terminate()


if __name__ == "__main__":
    main()
