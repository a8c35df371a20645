"""The metrics API answers the page's numbers, with the same filters and the same door."""

import pytest

from metrics import rollups
from tests.metrics.conftest import R

SUMMARY, CSMS, CUSTOMERS = "/api/v1/metrics/summary/", "/api/v1/metrics/csms/", "/api/v1/metrics/customers/"


@pytest.fixture
def built(story, today):
    rollups.rebuild_all()
    return story


def by_key(body) -> dict:
    return {f["key"]: f for f in body["figures"]}


def test_the_summary_equals_the_page(built, api_for, client_for):
    params = {"period": "quarter", "month": "2025-06"}

    body = api_for(built.org.leader_a).get(SUMMARY, params).json()
    page = client_for(built.org.leader_a).get("/metrics/", params).context

    figures = by_key(body)

    def same(value):
        return None if value is None else pytest.approx(float(value), abs=1e-6)  # rates to six decimals

    for key, _label, _how, fig, prev in page["headline"]:
        assert figures[key]["value"] == same(fig.value), key
        assert figures[key]["previous"] == same(prev.value), key
    assert figures["mrr"]["value"] == 4700 * R
    assert figures["logo_churn"]["value"] == same(1 / 6)
    assert body["period"] == {"kind": "quarter", "start": "2025-04-01", "end": "2025-06-01", "label": "2T 2025"}
    assert [m["churn_cents"] for m in body["months"]] == [800 * R, 400 * R, 0]


def test_an_undefined_figure_is_null_with_its_reason(built, api_for):
    figures = by_key(api_for(built.org.leader_a).get(SUMMARY, {"month": "2025-01"}).json())

    assert figures["logo_churn"]["value"] is None
    assert figures["logo_churn"]["why"]


def test_the_customers_behind_a_figure_add_up_to_it(built, api_for):
    params = {"figure": "churn", "period": "quarter", "month": "2025-06"}

    body = api_for(built.org.leader_a).get(CUSTOMERS, params).json()

    assert body["total_cents"] == 1200 * R == sum(r["amount_cents"] for r in body["results"])
    assert {r["name"] for r in body["results"]} == {"Beta", "Épsilon"}


def test_a_csm_gets_their_own_row_and_the_team_median(built, api_for):
    body = api_for(built.beatriz).get(CSMS, {"month": "2025-07"}).json()

    assert [row["name"] for row in body["rows"]] == ["Beatriz Santos"]
    assert body["total"] is None
    assert {f["key"]: f["value"] for f in body["median"]["figures"]}["mrr"] == (1600 + 2300) * R / 2


def test_another_teams_leader_and_a_csm_filtering_by_another_csm_see_nothing_of_it(built, api_for):
    other = by_key(api_for(built.org.leader_b).get(SUMMARY, {"month": "2025-07"}).json())
    widened = api_for(built.beatriz).get(CUSTOMERS, {"figure": "mrr", "month": "2025-07", "owner": built.lucas.pk})

    assert other["mrr"]["value"] == 0
    assert {r["name"] for r in widened.json()["results"]} == {"Gama", "Zeta"}


def test_an_unknown_figure_is_a_400_and_anonymous_callers_are_refused(built, api_for, client):
    response = api_for(built.org.leader_a).get(CUSTOMERS, {"figure": "nope"})

    assert response.status_code == 400
    assert "figure" in response.json()
    assert client.get(SUMMARY).status_code in (401, 403)


def test_the_metrics_endpoints_are_in_the_schema(db, api_for, org):
    schema = api_for(org.admin).get("/api/v1/schema/", {"format": "json"}).json()

    assert {SUMMARY, CSMS, CUSTOMERS} <= set(schema["paths"])
