"""A custom range of months on the metrics page and in the API: February to May 2025 of the story, by hand.

At the end of January Alfa (1.000), Zeta (900), Eta (500) and Teta (300) paid 2.700; at the end of May 4.400
(Gama 1.000 and Delta 700 more). No customer paying at the start churned (logo churn 0 %); Beta and Épsilon
joined and churned within the range."""

from datetime import date

import pytest
from django.urls import reverse

from metrics import rollups
from metrics.models import Rollup
from tests.metrics.conftest import R
from tests.portfolio.factories import subscribe

URL = reverse("metrics:overview")
RANGE = {"period": "custom", "from": "2025-02", "month": "2025-05"}


@pytest.fixture
def built(story, today):
    rollups.rebuild_all()
    return story


def shown(response) -> tuple[dict, dict]:
    headline = response.context["headline"]
    return (
        {key: fig.value for key, _l, _h, fig, _p in headline},
        {key: prev.value for key, _l, _h, _f, prev in headline},
    )


def test_a_range_of_months_shows_its_figures_against_as_many_months_before(built, client_for):
    response = client_for(built.org.leader_a).get(URL, RANGE)

    assert response.status_code == 200
    period = response.context["period"]
    assert (period.kind, period.start, period.end) == ("custom", date(2025, 2, 1), date(2025, 5, 1))
    figures, previous = shown(response)
    assert figures["mrr"] == 4400 * R
    assert figures["net_new"] == 1700 * R
    assert figures["logo_churn"] == 0
    assert response.context["churn_kinds"][3][2].value == 2  # Beta and Épsilon joined and churned
    assert previous["mrr"] == 2700 * R  # October 2024 to January 2025
    assert response.context["overview"].previous.start == date(2024, 10, 1)
    html = response.content.decode()
    assert "period=custom&amp;from=2025-02&amp;month=2025-05&amp;figure=mrr" in html
    assert 'value="2025-02"' in html


def test_its_drill_down_adds_up_to_the_figure_and_the_api_agrees(built, client_for, api_for):
    drill = client_for(built.org.leader_a).get(reverse("metrics:drilldown"), {**RANGE, "figure": "mrr"})
    body = api_for(built.org.leader_a).get("/api/v1/metrics/summary/", RANGE).json()

    assert drill.context["total_cents"] == 4400 * R
    assert "from=2025-02" in drill.context["back"]
    assert {f["key"]: f["value"] for f in body["figures"]}["mrr"] == 4400 * R
    assert body["period"]["kind"] == "custom"
    assert body["previous"]["start"] == "2024-10-01"


def test_a_range_the_refresh_keeps_builds_nothing_more(built, client_for):
    before = Rollup.objects.count()

    response = client_for(built.org.leader_a).get(URL, {"period": "custom", "from": "2025-04", "month": "2025-06"})

    assert shown(response)[0]["mrr"] == 4700 * R  # the second quarter's
    assert Rollup.objects.count() == before


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2025-06", "month": "2025-05"}, "O intervalo precisa começar no mesmo mês em que termina ou antes"),
        ({"from": "2021-01", "month": "2025-05"}, "Um intervalo pode cobrir no máximo 36 meses."),
        ({"from": "maio", "month": "2025-05"}, "Informe o primeiro mês do intervalo como mês e ano (AAAA-MM)."),
        ({"from": "2025-09", "month": "2025-08"}, "O intervalo não pode começar depois do mês atual."),
    ],
)
def test_a_range_that_is_not_valid_says_why_in_the_users_language(org, today, client_for, api_for, params, message):
    response = client_for(org.leader_a).get(URL, {"period": "custom", **params})
    api = api_for(org.leader_a).get("/api/v1/metrics/summary/", {"period": "custom", **params})

    assert response.status_code == 422
    assert message in response.content.decode()
    assert response.context["period"].kind == "month"  # the month instead, said so
    assert api.status_code == 400
    assert message in api.json()["from"][0]


def test_htmx_gets_the_error_in_the_results(org, today, client_for):
    response = client_for(org.leader_a).get(
        URL, {"period": "custom", "from": "2025-06", "month": "2025-05"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert 'id="period-error"' in html


def test_a_range_asked_for_again_is_read_not_built_again(built, client_for, monkeypatch):
    client = client_for(built.org.leader_a)
    client.get(URL, RANGE)  # built and kept, with the four months before it
    calls = []
    build = rollups.build
    monkeypatch.setattr(rollups, "build", lambda periods: calls.append(list(periods)) or build(periods))

    again = client.get(URL, RANGE)
    drill = client.get(reverse("metrics:drilldown"), {**RANGE, "figure": "mrr"})

    assert calls == []
    assert shown(again)[0]["mrr"] == 4400 * R
    assert drill.context["total_cents"] == 4400 * R


def test_a_change_to_the_ledger_under_a_kept_range_builds_it_again_when_next_asked(
    built, client_for, django_capture_on_commit_callbacks
):
    client = client_for(built.org.leader_a)
    assert shown(client.get(URL, RANGE))[0]["mrr"] == 4400 * R

    # Gama takes an add-on from March: the ledger changes inside the kept range (the refresh runs on the next page)
    with django_capture_on_commit_callbacks(execute=True):
        subscribe(built.gama, 250 * R, start=date(2025, 3, 1), product="BI")

    assert shown(client.get(URL, RANGE))[0]["mrr"] == 4650 * R
