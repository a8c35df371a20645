import json

import pytest

from tests.accounts.test_settings import PRODUCTION_ENV, run_python

HEALTHZ = "r = Client().get('/healthz'); print(r.status_code, r.content.decode())"


@pytest.mark.django_db
def test_healthz_checks_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "in-process"}}


@pytest.mark.django_db
def test_healthz_pings_a_configured_broker(client, settings):
    from config.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        response = client.get("/healthz")
    finally:
        app.conf.task_always_eager = True
    assert response.json()["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_broker(client, settings):
    from config.celery import app

    previous = app.conf.broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "ok", "broker": "error"}}


@pytest.mark.django_db
def test_healthz_calls_in_process_tasks_an_error_where_they_are_not_allowed(client, settings):
    settings.LEME_IN_PROCESS_TASKS_ALLOWED = False
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "ok", "broker": "error"}}


def healthz_in_production(prelude: str = "") -> tuple[int, dict]:
    """GET /healthz in a process started with the production settings, after running ``prelude``."""
    result = run_python(
        "import django; django.setup(); from django.test import Client;" + prelude + HEALTHZ,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        ALLOWED_HOSTS="testserver",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split(" ", 1)
    return int(status), json.loads(body)


def test_healthz_in_production_pings_the_broker():
    assert healthz_in_production() == (200, {"status": "ok", "checks": {"database": "ok", "broker": "ok"}})


def test_healthz_in_production_calls_in_process_tasks_an_error():
    # The settings cannot make production eager; a process that forced it anyway is unhealthy.
    prelude = (
        "from django.test.utils import override_settings; override_settings(CELERY_TASK_ALWAYS_EAGER=True).enable();"
    )
    assert healthz_in_production(prelude) == (503, {"status": "error", "checks": {"database": "ok", "broker": "error"}})
