"""A database that cannot be reached, or that refuses writes, is a 503 saying Leme is unavailable (a page, or
JSON for the API), never a 500 (config/errors.py)."""

from collections.abc import Iterator

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from tests.portfolio.factories import CustomerFactory


@pytest.fixture
def database_down(transactional_db) -> Iterator[None]:
    """From here on, every connection goes to a port where no database listens."""
    database = connections.settings[DEFAULT_DB_ALIAS]
    previous = database["PORT"]
    database["PORT"] = "1"
    connections[DEFAULT_DB_ALIAS].close()
    yield
    database["PORT"] = previous
    connections[DEFAULT_DB_ALIAS].close()


@pytest.fixture
def logged_in(org, client_for, api_for):
    """A CSM's browser and API client, logged in while the database was up; errors come back as responses."""
    client, api = client_for(org.csm_a), api_for(org.csm_a)
    client.raise_request_exception = api.raise_request_exception = False
    return client, api


def test_a_page_says_leme_is_unavailable_when_the_database_is_down(logged_in, database_down):
    client, _api = logged_in

    response = client.get("/portfolio/")

    assert response.status_code == 503
    assert response["Retry-After"]
    assert "Leme" in response.content.decode()
    assert "<h1>" in response.content.decode()


def test_the_api_answers_503_in_json_when_the_database_is_down(logged_in, database_down):
    _client, api = logged_in

    response = api.get("/api/v1/customers/")

    assert response.status_code == 503
    assert response.json()["detail"]


def test_a_write_to_a_read_only_database_is_a_503(transactional_db, org, logged_in):
    client, api = logged_in
    customer = CustomerFactory(owner=org.csm_a)
    # As a replica, or a primary set read-only for maintenance, answers: reads work, writes are refused.
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    try:
        page = client.get(f"/customers/{customer.pk}/")
        response = api.post(
            "/api/v1/tasks/", {"customer": customer.pk, "title": "Ligar", "due_date": "2026-12-10"}, format="json"
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")

    assert page.status_code == 200
    assert response.status_code == 503
    assert response.json()["detail"]


@pytest.mark.django_db
def test_other_server_errors_stay_500(org, logged_in, monkeypatch):
    client, _api = logged_in

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("portfolio.selectors.portfolio_page", broken)

    assert client.get("/portfolio/").status_code == 500
