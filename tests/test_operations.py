"""How Leme runs: which queue each background job goes to, how long it may run, and the beat's copies."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings

import accounts.tasks
import portfolio.tasks
import surveys.tasks
from config.celery import app

ROOT = Path(__file__).resolve().parent.parent


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_survey_sends_go_to_the_bulk_mail_queue():
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    assert queue_of(surveys.tasks.deliveries_send.name) == f"{default}.mail"
    assert queue_of(surveys.tasks.reminders_send.name) == f"{default}.mail"


def test_nightly_work_goes_to_the_nightly_queue():
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    assert queue_of(portfolio.tasks.ledger_sync_effective.name) == f"{default}.nightly"
    assert queue_of(portfolio.tasks.delinquency_escalate.name) == f"{default}.nightly"


def test_what_someone_waits_for_stays_on_the_default_queue():
    assert queue_of(accounts.tasks.invitation_send.name) == settings.CELERY_TASK_DEFAULT_QUEUE
    assert queue_of(surveys.tasks.campaigns_due.name) == settings.CELERY_TASK_DEFAULT_QUEUE


def test_every_routed_task_exists():
    app.loader.import_default_modules()  # what a worker does as it starts: every app's tasks module
    registered = set(app.tasks)
    assert set(settings.CELERY_TASK_ROUTES) <= registered


def test_a_worker_without_dash_q_consumes_every_routed_queue():
    consumed = set(app.amqp.queues.consume_from)
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= consumed


def test_the_procfile_worker_does_not_narrow_its_queues():
    procfile = (ROOT / "Procfile").read_text()
    workers = [line for line in procfile.splitlines() if re.search(r"\bcelery .* worker\b", line)]
    assert workers
    assert not [line for line in workers if re.search(r"\s(-Q|--queues)\b", line)]


def test_nightly_tasks_get_longer_time_limits():
    nightly = portfolio.tasks.ledger_sync_effective
    quick = accounts.tasks.invitation_send
    assert nightly.soft_time_limit == settings.LEME_NIGHTLY_SOFT_TIME_LIMIT > settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert nightly.time_limit == settings.LEME_NIGHTLY_TIME_LIMIT > nightly.soft_time_limit
    assert quick.soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT


def test_redis_does_not_redeliver_a_nightly_task_still_running():
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.LEME_NIGHTLY_TIME_LIMIT


def seconds_between_runs(schedule: crontab | int) -> float:
    """Leme's crontabs run every day: a day over the number of runs in it."""
    if isinstance(schedule, crontab):
        return 24 * 60 * 60 / (len(schedule.hour) * len(schedule.minute))
    return schedule


@pytest.mark.parametrize("name", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_beat_copies_expire_before_the_next_one_is_due(name):
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    assert 0 < entry["options"]["expires"] < seconds_between_runs(entry["schedule"])


# --- bin/run -------------------------------------------------------------------------------------


@pytest.fixture
def bin_run(tmp_path):
    """bin/run in a copy of the project whose setup does nothing and whose Python records the SITE_URL
    each manage.py command sees, instead of installing and serving."""
    (tmp_path / "bin").mkdir()
    shutil.copy(ROOT / "bin" / "run", tmp_path / "bin" / "run")
    (tmp_path / "bin" / "_setup").write_text("")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\necho "$2 ${SITE_URL:-unset}" >> "$(dirname "$0")/../../calls"\n')
    python.chmod(0o755)

    def run(**env: str) -> list[str]:
        clean = {k: v for k, v in os.environ.items() if k not in {"PORT", "SITE_URL"}}
        subprocess.run(["bash", str(tmp_path / "bin" / "run")], env={**clean, **env}, check=True, capture_output=True)  # noqa: S603, S607
        return (tmp_path / "calls").read_text().split("\n")[-2].split()

    run.root = tmp_path
    return run


def test_bin_run_emails_links_to_the_port_it_serves_on(bin_run):
    assert bin_run(PORT="8123") == ["runserver", "http://127.0.0.1:8123"]


def test_bin_run_keeps_an_explicit_site_url(bin_run):
    assert bin_run(PORT="8123", SITE_URL="https://leme.example.com") == ["runserver", "https://leme.example.com"]


def test_bin_run_leaves_a_site_url_from_dot_env_to_the_settings(bin_run):
    (bin_run.root / ".env").write_text("SITE_URL=http://leme.local:9000\n")
    assert bin_run(PORT="8123") == ["runserver", "unset"]


def test_leme_connects_to_postgresql_with_jit_off(db):
    """A leader's panels are a few big reads: compiling them first cost more than running them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_the_jit_setting_can_be_left_to_the_server(monkeypatch):
    from config.settings import base

    monkeypatch.setenv("LEME_DATABASE_JIT", "true")
    assert "OPTIONS" not in base.without_jit({"ENGINE": "django.db.backends.postgresql"})
    monkeypatch.delenv("LEME_DATABASE_JIT")
    assert base.without_jit({"ENGINE": "django.db.backends.postgresql", "OPTIONS": {"options": "-c x=1"}}) == {
        "ENGINE": "django.db.backends.postgresql",
        "OPTIONS": {"options": "-c x=1 -c jit=off"},
    }
    assert "OPTIONS" not in base.without_jit({"ENGINE": "django.db.backends.sqlite3"})
