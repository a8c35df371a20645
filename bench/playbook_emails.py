"""Benchmark: a playbook's email step queuing N tech-touch emails, and sending them to a local SMTP sink.

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_bench_mail \\
        .venv/bin/python -m bench.playbook_emails [--emails 2000] [--customers 100]

Drops and re-creates that scratch database (its name must contain "bench_mail"), migrates it, seeds one CSM,
``--customers`` customers and N contacts in the "user" role (half pt-BR, half English), starts the
survey benchmark's aiosmtpd sink in a child process, publishes a playbook whose one step emails the users,
and times:

1. ``engine.run_advance`` of every customer's run: the email step writing one ``StepEmail`` per contact
   (one bulk insert per run, in the step's transaction);
2. ``mailing.emails_send_pending()`` with the send rate off and the window always open: the cap counted once
   per batch, each email claimed, built (text and HTML), handed to the sink and marked sent in its own
   transaction.

Prints the times, emails per second and SQL queries per email, and checks that the sink received every email.
Not a test: pytest never collects it.
"""

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.survey_send import free_port, sink  # noqa: E402


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench_mail" not in name:
        sys.exit(f"refusing to drop {name!r}: this benchmark's scratch database name must contain 'bench_mail'")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(emails: int, customers: int):
    from accounts.models import Role
    from accounts.services import user_create
    from portfolio import services as portfolio_services
    from portfolio.models import Contact

    csm = user_create(email="lucas@bench.leme.app", full_name="Lucas Almeida")
    admin = user_create(email="admin@bench.leme.app", full_name="Renata Azevedo", role=Role.ADMIN)
    rows = [
        portfolio_services.customer_create(actor=None, name=f"Cliente {n} Ltda", owner=csm, segment="mid")
        for n in range(customers)
    ]
    Contact.objects.bulk_create(
        [
            Contact(
                customer=rows[n % customers],
                name=f"Pessoa {n} Silva",
                email=f"pessoa{n}@cliente{n % customers}.com.br",
                language="en" if n % 2 else "pt-br",
                role="user",
            )
            for n in range(emails)
        ],
        batch_size=2000,
    )
    return admin, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=2_000)
    parser.add_argument("--customers", type=int, default=100)
    args = parser.parse_args()
    database_url = os.environ.get("TEST_DATABASE_URL", "")
    if os.environ.get("DJANGO_SETTINGS_MODULE") != "config.settings.test" or not database_url:
        sys.exit("set DJANGO_SETTINGS_MODULE=config.settings.test and TEST_DATABASE_URL (see the docstring)")

    port = free_port()
    received = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    sink_process = multiprocessing.Process(target=sink, args=(port, received, ready, 0.0), daemon=True)
    sink_process.start()
    ready.wait(10)
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ["LEME_SURVEY_SEND_RATE"] = "0"
    os.environ["LEME_PLAYBOOK_EMAIL_WINDOW"] = "1-7 00:00-23:59"
    recreate_database(database_url)

    import django

    django.setup()
    import logging

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from playbooks import engine, mailing, services
    from playbooks.models import EmailStatus, Playbook, StepEmail

    logging.disable(logging.INFO)
    call_command("migrate", verbosity=0)
    Playbook.objects.filter(key__isnull=False).delete()
    admin, customers = seed(args.emails, args.customers)
    step = {
        "kind": "email",
        "template": "Dicas",
        "contact_role": "user",
        "subject_pt": "Dicas para a {{ customer.name }}",
        "body_pt": 'Olá, {{ contact.first_name|default:"pessoal" }}!\n\nAbraço,\n{{ csm.name }}',
        "subject_en": "Tips for {{ customer.name }}",
        "body_en": 'Hi {{ contact.first_name|default:"there" }},\n\nBest,\n{{ csm.name }}',
    }
    playbook = services.playbook_create(name="Bench tips", actor=None, trigger_kind="manual", steps=[step])
    services.version_publish(playbook=playbook, actor=None)
    playbook.refresh_from_db()
    runs = [services.run_start(playbook=playbook, customer=c, actor=admin) for c in customers]

    started = time.perf_counter()
    for run in runs:
        engine.run_advance(run.pk)
    queue_seconds = time.perf_counter() - started
    assert StepEmail.objects.count() == args.emails

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = mailing.emails_send_pending()
        send_seconds = time.perf_counter() - started
    sent = StepEmail.objects.filter(status=EmailStatus.SENT).count()
    assert sent == args.emails == result.sent, (sent, result)
    assert received.value == args.emails, f"the sink received {received.value}"
    print(f"emails: {args.emails} to {args.customers} customers' users, rate limit off, window open")
    print(f"queue (the email step of {len(runs)} runs): {queue_seconds:6.2f} s")
    print(
        f"send: {send_seconds:6.2f} s, {args.emails / send_seconds:6.0f} emails/s, "
        f"{len(queries) / args.emails:.1f} queries per email"
    )
    sink_process.terminate()


if __name__ == "__main__":
    main()
