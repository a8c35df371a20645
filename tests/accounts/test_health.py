import pytest


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
