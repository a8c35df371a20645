"""What schemathesis found over the served OpenAPI schema: a query the database could not take (500), and two
places where the API answered what its schema did not declare."""

import pytest
import yaml
from django.core.management import call_command

from tests.surveys.test_answers import make_campaign

pytestmark = pytest.mark.django_db

RESPONSES = "/api/v1/survey-responses/"


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01T00:00:00+17:30",
        "2026-01-01T00:00:00-16:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59Z",
    ],
)
def test_a_date_filter_postgresql_cannot_take_is_a_400(org, api_for, value):
    api = api_for(org.leader_a)

    after = api.get(RESPONSES, {"answered_after": value})
    before = api.get(RESPONSES, {"answered_before": value})

    assert (after.status_code, list(after.json())) == (400, ["answered_after"])
    assert (before.status_code, list(before.json())) == (400, ["answered_before"])


def test_real_offsets_still_filter(org, api_for):
    response = api_for(org.leader_a).get(RESPONSES, {"answered_after": "2026-01-01T00:00:00+14:00"})

    assert response.status_code == 200


@pytest.fixture
def schema(tmp_path) -> dict:
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    return yaml.safe_load(path.read_text())


def enum_values(schema: dict, prop: dict) -> set:
    """Every value an enum property allows, through $ref and oneOf."""
    if "$ref" in prop:
        return enum_values(schema, schema["components"]["schemas"][prop["$ref"].rsplit("/", 1)[1]])
    if "oneOf" in prop or "allOf" in prop:
        return set().union(*(enum_values(schema, p) for p in prop.get("oneOf", prop.get("allOf"))))
    return set(prop.get("enum", []))


def test_the_schema_declares_a_campaign_without_trigger(schema, org, api_for):
    campaign = make_campaign("nps", actor=org.admin)
    answered = api_for(org.admin).get(f"/api/v1/survey-campaigns/{campaign.pk}/").json()
    trigger = schema["components"]["schemas"]["SurveyCampaign"]["properties"]["trigger"]

    assert answered["trigger"] == ""
    assert "" in enum_values(schema, trigger)


def test_the_schema_declares_a_person_without_a_team(schema, org, api_for):
    answered = api_for(org.admin).get(f"/api/v1/users/{org.admin.pk}/").json()
    team = schema["components"]["schemas"]["User"]["properties"]["team"]

    assert answered["team"] is None
    assert team.get("nullable") is True
