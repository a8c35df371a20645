import json
import socket
import time
from collections.abc import Iterator

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

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


# --- Outages: a quick 503, no cookie -------------------------------------------------------------------------
# The probe must answer within about a second (config.health.HEALTHZ_TIMEOUT); the time is printed, never
# asserted (a loaded machine would make a timed assertion flaky).


@pytest.fixture
def silent_port() -> Iterator[str]:
    """A port that takes connections and never answers: a server hung, or a firewall that drops packets."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield str(server.getsockname()[1])


def _probe(client) -> tuple[int, dict, float, str]:
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    return response.status_code, response.json(), elapsed, response.get("Set-Cookie", "")


@pytest.mark.django_db
@pytest.mark.parametrize("port", ["1", "silent"])
def test_healthz_answers_503_without_a_cookie_when_the_broker_is_down(client, settings, request, port, monkeypatch):
    from config import health
    from config.celery import app

    # The database's own check must finish even on a machine busy with other tests: the probe waits longer
    # here than in production (the time it takes is printed, never asserted). The broker's check still ends on
    # its own connect timeout, as in production.
    monkeypatch.setattr(health, "HEALTHZ_TIMEOUT", 5)
    port = request.getfixturevalue("silent_port") if port == "silent" else port
    broker_url = f"redis://127.0.0.1:{port}/0"

    previous = app.conf.broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = broker_url
    app.conf.broker_url = broker_url
    try:
        status, body, elapsed, cookie = _probe(client)
    finally:
        app.conf.broker_url = previous
    print(f"/healthz with the broker at {broker_url}: {status} in {elapsed:.2f} s")
    assert status == 503
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] in ("error", "timeout")
    assert cookie == ""


@pytest.mark.parametrize("port", ["1", "silent"])
def test_healthz_answers_503_without_a_cookie_when_the_database_is_down(transactional_db, client, request, port):
    # A logged-in visitor's session would be read from the database: the probe must not read it.
    client.cookies["sessionid"] = "x" * 32
    # Every connection opened from now on goes to an address where no database answers.
    database = connections.settings[DEFAULT_DB_ALIAS]
    previous = database["HOST"], database["PORT"]
    port = request.getfixturevalue("silent_port") if port == "silent" else port
    database["HOST"], database["PORT"] = "127.0.0.1", port
    connections[DEFAULT_DB_ALIAS].close()
    try:
        status, body, elapsed, cookie = _probe(client)
    finally:
        database["HOST"], database["PORT"] = previous
        connections[DEFAULT_DB_ALIAS].close()
    print(f"/healthz with the database at port {port}: {status} in {elapsed:.2f} s")
    assert status == 503
    assert body["checks"]["database"] in ("error", "timeout")
    assert cookie == ""
