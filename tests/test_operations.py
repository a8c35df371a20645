"""How Leme runs: which queue each background job goes to, how long it may run, and the beat's copies."""

import re
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
