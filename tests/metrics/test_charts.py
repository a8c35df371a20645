"""The metrics page's charts: the JSON they draw carries the story's monthly figures, each bar and point links
to the customers behind it, and the same figures are in a table beside each chart; no inline script or style."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from metrics import rollups
from tests.metrics.conftest import R

URL = reverse("metrics:overview")


@pytest.fixture
def built(story, today):
    rollups.rebuild_all()
    return story


def chart_data(response) -> dict:
    html = response.content.decode()
    match = re.search(r'<script id="metrics-chart-data" type="application/json">(.*?)</script>', html)
    assert match, "the page carries the charts' data"
    return json.loads(match.group(1))


def test_the_charts_draw_the_movements_and_mrr_of_twelve_months_at_least(built, client_for):
    response = client_for(built.org.leader_a).get(URL, {"period": "quarter", "month": "2025-06"})

    data = chart_data(response)
    bars = {bar["key"]: bar["values"] for bar in data["mrr"]["bars"]}
    assert len(data["labels"]) == 12  # July 2024 to June 2025
    assert data["labels"][-1] == "Jun 2025"  # months in the page's language (Portuguese: "Jun 2025")
    # April: Delta and Épsilon new (700 + 400), Beta churns (800), drawn below zero
    assert (bars["new"][-3], bars["churn"][-3]) == (1100.0, -800.0)
    assert bars["reactivation"][-1] == 600.0  # Beta back in June
    assert data["mrr"]["line"]["values"][-3:] == [5300.0, 4400.0, 4700.0]
    assert data["mrr"]["line"]["values"][0] == 0.0  # before the first customer


def test_the_retention_chart_leaves_a_gap_where_a_rate_is_undefined(built, client_for):
    data = chart_data(client_for(built.org.leader_a).get(URL, {"period": "month", "month": "2025-07"}))

    logo, nrr = (line["values"] for line in data["retention"])
    assert logo[-7] is None  # January 2025: nobody paid at its start
    assert logo[-1] == round(2 / 7 * 100, 2)  # July: Eta and Teta of the seven paying on 1 July
    assert nrr[-1] == round((4700 - 800) / 4700 * 100, 2)


def test_every_bar_and_point_links_to_the_customers_of_its_month_and_figure(built, client_for):
    client = client_for(built.org.leader_a)
    data = chart_data(client.get(URL, {"period": "month", "month": "2025-06", "segment": "mid"}))

    churn = next(bar for bar in data["mrr"]["bars"] if bar["key"] == "churn")
    link = churn["links"][-3]  # April
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == reverse("metrics:drilldown")
    assert query == {"period": ["month"], "month": ["2025-04"], "segment": ["mid"], "figure": ["churn"]}
    drilled = client.get(link).context
    assert drilled["total_cents"] == -churn["values"][-3] * R
    assert [len(line["links"]) for line in data["retention"]] == [12, 12]


def test_each_chart_has_its_figures_in_a_table_with_the_same_links(built, client_for):
    html = client_for(built.org.leader_a).get(URL, {"period": "month", "month": "2025-06"}).content.decode()

    assert 'id="chart-mrr-table"' in html
    assert 'id="chart-retention-table"' in html
    assert f"{reverse('metrics:drilldown')}?period=month&amp;month=2025-04&amp;figure=churn" in html
    assert 'role="img"' in html


def test_the_page_has_no_inline_script_nor_style_attribute(built, client_for):
    html = client_for(built.org.leader_a).get(URL, {"period": "year", "month": "2025-08"}).content.decode()

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert all('src="' in attrs or 'type="application/json"' in attrs for attrs, _body in scripts)
    assert all(not body.strip() for attrs, body in scripts if 'src="' in attrs)
    assert " style=" not in html
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/js/metrics.js" in html
