"""POST /api/v1/usage-events/: all or nothing, idempotent by event_id, through the door."""

from datetime import UTC, date, datetime

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import TokenScope
from core import clock
from health.models import UsageDay, UsageEvent
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage-events/"
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.at(NOW):
        yield


@pytest.fixture
def integration(org) -> APIClient:
    _token, key = account_services.api_token_create(
        user=org.admin, name="Eventos do produto", actor=org.admin, scope=TokenScope.USAGE_EVENTS
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def event(who, n: int = 1, **fields) -> dict:
    return {
        "event_id": f"evt-{n}",
        "customer": who.pk,
        "user_id": f"u-{n % 3}",
        "event": "login" if n % 2 else "report_exported",
        "timestamp": "2026-12-01T14:03:00-03:00",
        **fields,
    }


def test_a_batch_is_stored_once_and_rolled_up(org, integration, committed):
    customer = CustomerFactory(owner=org.csm_a, external_id="crm-4411")
    events = [event(customer, n) for n in range(1, 5)]
    events[3] = {**events[3], "customer": None, "customer_external_id": "crm-4411"}
    events[3].pop("customer")

    with committed():
        first = integration.post(URL, {"events": events}, format="json")
    with committed():
        again = integration.post(URL, {"events": events}, format="json")

    assert first.status_code == 201, first.json()
    assert first.json() == {"received": 4, "created": 4, "duplicates": 0}
    assert again.status_code == 200
    assert again.json() == {"received": 4, "created": 0, "duplicates": 4}
    assert UsageEvent.objects.filter(customer=customer).count() == 4
    stored = UsageEvent.objects.get(source_id="evt-2")
    assert stored.occurred_at == datetime(2026, 12, 1, 17, 3, tzinfo=UTC)
    day = UsageDay.objects.get(customer=customer)
    assert day.day == date(2026, 12, 1)
    assert day.events == 4
    assert day.active_users == 3
    assert day.events_by_name == {"login": 2, "report_exported": 2}


def test_a_batch_with_one_bad_event_stores_nothing_and_names_the_event_and_field(org, integration):
    customer = CustomerFactory(owner=org.csm_a)
    events = [event(customer, n) for n in range(1, 6)]
    events[3]["timestamp"] = "2026-12-01T14:03:00"  # no offset
    events[4]["properties"] = {"plan": {"nested": True}}

    response = integration.post(URL, {"events": events}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"3", "4"}
    assert list(errors["3"]) == ["timestamp"]
    assert "offset" in errors["3"]["timestamp"][0] or "fuso" in errors["3"]["timestamp"][0]
    assert list(errors["4"]) == ["properties"]
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"timestamp": "2026-12-04T10:00:00Z"}, "timestamp"),  # two days ahead
        ({"timestamp": "2025-10-01T10:00:00Z"}, "timestamp"),  # beyond the retention
        ({"timestamp": "amanhã"}, "timestamp"),
        ({"timestamp": "2026-12-01T10:00:00+18:00"}, "timestamp"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "x" * 101}, "event_id"),
        ({"user_id": None}, "user_id"),
        ({"event": "e" * 101}, "event"),
        ({"properties": {f"k{n}": n for n in range(51)}}, "properties"),
        ({"properties": {"note": "x" * 5000}}, "properties"),
        ({"properties": ["a"]}, "properties"),
        ({"customer": 10**12}, "customer"),
        ({"customer": "abc"}, "customer"),
    ],
)
def test_each_field_is_checked(org, integration, fields, field):
    customer = CustomerFactory(owner=org.csm_a)
    response = integration.post(URL, {"events": [event(customer), event(customer, 2, **fields)]}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["1"]
    assert field in response.json()["errors"]["1"]
    assert not UsageEvent.objects.exists()


def test_more_than_1000_events_is_a_400(org, integration):
    customer = CustomerFactory(owner=org.csm_a)
    response = integration.post(URL, {"events": [event(customer, n) for n in range(1001)]}, format="json")
    assert response.status_code == 400
    assert "events" in response.json()["errors"]
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize("body", [{}, {"events": []}, {"events": "x"}, ["x"], {"events": [1, None]}])
def test_a_body_that_is_not_a_batch_is_a_400(org, integration, body):
    assert integration.post(URL, body, format="json").status_code == 400


def test_a_csm_s_token_sends_for_their_customers_only(org, api_for):
    mine = CustomerFactory(owner=org.csm_a)
    theirs = CustomerFactory(owner=org.csm_b, external_id="crm-b")
    client = api_for(org.csm_a)

    refused = client.post(
        URL,
        {"events": [event(mine, 1), event(theirs, 2), {**event(mine, 3), "customer_external_id": "crm-b"}]},
        format="json",
    )
    accepted = client.post(URL, {"events": [event(mine, 1)]}, format="json")

    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert list(errors) == ["1", "2"]
    assert "customer" in errors["1"]
    assert "customer_external_id" in errors["2"]
    assert accepted.status_code == 201
    assert list(UsageEvent.objects.values_list("customer_id", flat=True)) == [mine.pk]


def test_an_integration_token_sends_for_every_customer(org, integration):
    events = [event(CustomerFactory(owner=csm), n) for n, csm in enumerate([org.csm_a, org.csm_b, None])]
    assert integration.post(URL, {"events": events}, format="json").status_code == 201
    assert UsageEvent.objects.count() == 3


def test_a_viewer_s_token_cannot_send(org, api_for):
    customer = CustomerFactory(owner=org.csm_a)
    assert api_for(org.viewer_a).post(URL, {"events": [event(customer)]}, format="json").status_code == 403


def test_the_endpoint_is_in_the_schema(org, api_for):
    schema = api_for(org.admin).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/usage-events/"]["post"]
    assert operation["operationId"] == "usage_events_create"
    assert {"201", "400"} <= set(operation["responses"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]


PLAIN = {
    "event_id": "evt-1",
    "customer": 12,
    "user_id": "u-1",
    "event": "login",
    "timestamp": "2026-12-01T14:03:00-03:00",
}


ORDINARY = [
    {},
    {"customer_external_id": "crm-1"},
    {"customer_external_id": "crm-1", "customer": 13},
    {"event_id": "x" * 100},
    {"user_id": "u" * 200},
    {"timestamp": "2026-12-01T17:03:00Z"},
    {"timestamp": "2026-12-03T15:00:00Z"},
    {"timestamp": "2025-11-01T15:00:00Z"},
    {"properties": {}},
    {"properties": {"plan": "pro", "pages": 12, "paid": True, "note": None}},
    {"unknown": "ignored"},
]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"customer": None},
        {"customer_external_id": "crm-1"},
        {"customer_external_id": "crm-1", "customer": 13},
        {"customer_external_id": "", "customer": 13},
        {"customer_external_id": " crm-1 "},
        {"customer_external_id": None},
        {"customer": "12"},
        {"customer": True},
        {"customer": 0},
        {"customer": 2**63},
        {"customer": 12.0},
        {"event_id": " evt-1"},
        {"event_id": "x" * 100},
        {"event_id": "x" * 101},
        {"event_id": ""},
        {"event_id": "   "},
        {"event_id": 17},
        {"event_id": "evt\x00"},
        {"user_id": "Usuário ação"},
        {"user_id": "u" * 200},
        {"user_id": "u" * 201},
        {"event": "relatório exportado"},
        {"timestamp": "2026-12-01T17:03:00Z"},
        {"timestamp": " 2026-12-01T17:03:00Z "},
        {"timestamp": "2026-12-01T14:03:00"},
        {"timestamp": "2026-12-01T10:00:00+15:59"},
        {"timestamp": "2026-12-01T10:00:00+16:00"},
        {"timestamp": "2026-12-03T15:00:00Z"},  # a day ahead exactly
        {"timestamp": "2026-12-03T15:00:01Z"},
        {"timestamp": "2025-11-01T15:00:00Z"},  # at the retention's edge (396 days)
        {"timestamp": "2025-11-01T14:59:59Z"},
        {"timestamp": "2026-13-01T10:00:00Z"},
        {"timestamp": 1733000000},
        {"properties": {}},
        {"properties": {"plan": "pro", "pages": 12, "paid": True, "note": None}},
        {"properties": None},
        {"properties": {"plan": {"nested": True}}},
        {"properties": {"k" * 101: 1}},
        {"properties": {f"k{n}": n for n in range(51)}},
        {"unknown": "ignored"},
    ],
)
def test_the_plain_path_gives_what_the_serializer_gives_or_leaves_the_event_to_it(changes):
    """check_events takes a plainly valid event without DRF's field-by-field checks; for every other the
    serializer decides. The plain path must accept only what the serializer accepts, with the same values."""
    from rest_framework import serializers

    from health import ingest

    item = {key: value for key, value in {**PLAIN, **changes}.items() if value is not None or key == "properties"}
    if changes.get("customer", 1) is None:
        item["customer"] = None
    checker = ingest.UsageEventIn()
    now = clock.now()
    plain = ingest._plain_event(item, (ingest.oldest_accepted(now), now + ingest.MAX_AHEAD), checker)
    try:
        expected = dict(checker.run_validation(item))
    except serializers.ValidationError:
        expected = None
    if plain is not None:
        assert plain == expected
    if changes in ORDINARY:  # what senders send: taken without the serializer
        assert plain is not None
        assert plain == expected
