"""The metrics page and its drill-downs: the figures of the story, scoped by the door, each number adding up
to the customers behind it, in a constant number of queries."""

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.urls import reverse

from metrics import rollups, selectors
from metrics.forms import read_metrics_request
from tests.metrics.conftest import R

URL = reverse("metrics:overview")
CSMS = reverse("metrics:panel_csms")
DRILL = reverse("metrics:drilldown")


@pytest.fixture
def built(story, today):
    rollups.rebuild_all()
    return story


def page(client, url=URL, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response


def figures(response) -> dict:
    return {key: fig.value for key, _label, _how, fig, _prev in response.context["headline"]}


def drill(client, figure, **params):
    response = client.get(DRILL, {"figure": figure, **params})
    assert response.status_code == 200
    return response.context


def test_a_leader_sees_the_months_figures_with_the_previous_month_beside(built, client_for):
    response = page(client_for(built.org.leader_a), period="month", month="2025-06")

    shown = figures(response)
    assert shown["mrr"] == 4700 * R
    assert shown["net_new"] == 300 * R
    previous = {key: prev.value for key, _label, _how, _fig, prev in response.context["headline"]}
    assert previous["mrr"] == 4400 * R  # May
    assert response.context["period"].start == date(2025, 6, 1)
    assert "Como é calculado?" in response.content.decode()  # people read Leme in Portuguese unless they choose


def test_an_undefined_figure_shows_a_dash_with_the_reason(built, client_for):
    response = page(client_for(built.org.leader_a), period="month", month="2025-01")

    html = response.content.decode()
    assert figures(response)["logo_churn"] is None
    assert 'class="undefined" title="Nenhum cliente pagava no início do período: a taxa é indefinida.' in html


@pytest.mark.parametrize(
    ("figure", "params", "expected_cents", "customers"),
    [
        ("mrr", {"period": "month", "month": "2025-06"}, 4700 * R, 7),
        ("contraction", {"period": "month", "month": "2025-06"}, 300 * R, 1),
        ("reactivation", {"period": "month", "month": "2025-06"}, 600 * R, 1),
        ("churn", {"period": "quarter", "month": "2025-06"}, 1200 * R, 2),
        ("churned", {"period": "quarter", "month": "2025-06"}, 800 * R, 1),  # Beta; Épsilon joined and churned
        ("joined_and_churned", {"period": "quarter", "month": "2025-06"}, 400 * R, 1),
        ("voluntary_churned", {"period": "month", "month": "2025-07"}, 500 * R, 1),
        ("nrr", {"period": "quarter", "month": "2025-06"}, 4000 * R, 6),
    ],
)
def test_every_drill_down_adds_up_to_the_figure_clicked(built, client_for, figure, params, expected_cents, customers):
    client = client_for(built.org.leader_a)

    context = drill(client, figure, **params)

    assert context["total_cents"] == expected_cents
    assert len(context["rows"]) == customers == context["page"].count


@pytest.mark.parametrize("figure", sorted(selectors.DRILLS))
def test_without_postgresql_every_drill_down_gives_the_same_rows_from_the_ledger_in_python(
    built, client_for, monkeypatch, figure
):
    # given: the rows PostgreSQL's query gives, for a quarter, as the leader, filtered by segment and not
    client = client_for(built.org.leader_a)
    from_sql = [drill(client, figure, period="quarter", month="2025-06", **f) for f in ({}, {"segment": "smb"})]

    # when: the same drill-downs on a database without that SQL (the embedded SQLite run)
    monkeypatch.setattr(selectors.connection, "vendor", "sqlite")
    in_python = [drill(client, figure, period="quarter", month="2025-06", **f) for f in ({}, {"segment": "smb"})]

    # then
    def rows(context):
        return context["total_cents"], context["page"].count, [(r.customer.pk, r.amount_cents) for r in context["rows"]]

    assert [rows(c) for c in in_python] == [rows(c) for c in from_sql]


def test_the_drill_down_of_each_headline_figure_matches_the_page(built, client_for):
    client = client_for(built.org.leader_a)
    response = page(client, period="quarter", month="2025-06")
    totals = response.context["overview"].totals

    assert drill(client, "mrr", period="quarter", month="2025-06")["total_cents"] == totals.mrr_end_cents
    assert drill(client, "net_new", period="quarter", month="2025-06")["total_cents"] == totals.net_new_cents
    assert len(drill(client, "logo_churn", period="quarter", month="2025-06")["rows"]) == totals.churned_customers
    assert drill(client, "grr", period="quarter", month="2025-06")["total_cents"] == totals.retained_mrr_cents


def test_a_csm_filter_keeps_the_owner_at_the_start_of_the_period(built, client_for):
    client = client_for(built.org.leader_a)

    lucas_june = figures(page(client, period="month", month="2025-06", owner=built.lucas.pk))
    beatriz_june = figures(page(client, period="month", month="2025-06", owner=built.beatriz.pk))

    assert lucas_june["mrr"] + beatriz_june["mrr"] == 4700 * R
    assert beatriz_june["mrr"] == 1000 * R  # Gama only: Zeta was still Lucas's on 1 June
    rows = drill(client, "contraction", period="month", month="2025-06", owner=built.lucas.pk)["rows"]
    assert [r.customer.name for r in rows] == ["Zeta"]


def test_the_leader_compares_csms_with_a_team_total(built, client_for):
    response = page(client_for(built.org.leader_a), CSMS, period="month", month="2025-07")

    comparison = response.context["comparison"]
    names = [row.name for row in comparison.rows]
    assert names == ["Beatriz Santos", "Lucas Almeida"]
    assert comparison.total.figures["mrr"].value == sum(row.figures["mrr"].value for row in comparison.rows)
    assert comparison.total.figures["mrr"].value == 3900 * R


def test_the_leader_sorts_the_csms_by_a_figure(built, client_for):
    client = client_for(built.org.leader_a)

    by_mrr = page(client, CSMS, period="month", month="2025-07", sort="mrr").context["comparison"].rows
    by_nrr = page(client, CSMS, period="month", month="2025-07", sort="nrr").context["comparison"].rows

    assert [row.name for row in by_mrr] == ["Lucas Almeida", "Beatriz Santos"]  # 2300 before 1600
    assert [row.name for row in by_nrr] == ["Beatriz Santos", "Lucas Almeida"]  # 100 % before 74 %


def test_a_csm_sees_their_own_row_against_the_team_median_never_another_csms(built, client_for):
    response = page(client_for(built.beatriz), CSMS, period="month", month="2025-07")
    overview = page(client_for(built.beatriz), period="month", month="2025-07")

    comparison = response.context["comparison"]
    assert [row.name for row in comparison.rows] == ["Beatriz Santos"]
    assert comparison.total is None
    # July MRR at the end: Beatriz 1600 (Gama, Zeta), Lucas 2300 (Alfa, Beta, Delta): the median of two.
    assert comparison.median.figures["mrr"].value == (1600 + 2300) * R / 2
    assert "Lucas Almeida" not in response.content.decode()
    assert "Lucas Almeida" not in overview.content.decode()
    assert figures(overview)["mrr"] == 1600 * R


def test_a_csm_cannot_widen_their_scope_with_the_owner_filter(built, client_for):
    client = client_for(built.beatriz)

    shown = figures(page(client, period="month", month="2025-07", owner=built.lucas.pk))
    rows = drill(client, "mrr", period="month", month="2025-07", owner=built.lucas.pk)["rows"]

    assert shown["mrr"] == 1600 * R
    assert {r.customer.name for r in rows} == {"Gama", "Zeta"}


def test_another_teams_leader_sees_none_of_it(built, client_for):
    client = client_for(built.org.leader_b)

    response = page(client, period="month", month="2025-07")

    assert figures(response)["mrr"] == 0
    assert response.context["overview"].empty
    assert drill(client, "mrr", period="month", month="2025-07")["rows"] == []


def test_segment_plan_and_model_filters_stay_in_the_links(built, client_for):
    response = page(client_for(built.org.leader_a), period="month", month="2025-07", segment="enterprise")

    assert figures(response)["mrr"] == 1000 * R
    assert "segment=enterprise" in response.context["query"]
    assert f"{DRILL}?period=month&amp;month=2025-07&amp;segment=enterprise&amp;figure=mrr" in response.content.decode()


def test_bad_parameters_fall_back_to_defaults_and_an_unknown_figure_is_404(built, client_for):
    client = client_for(built.org.leader_a)

    response = page(client, period="decade", month="2025-13", owner="x", segment="huge")

    assert response.context["period"].start == date(2025, 8, 1)
    assert client.get(DRILL, {"figure": "__import__"}).status_code == 404


def test_htmx_gets_the_results_partial(built, client_for):
    response = client_for(built.org.leader_a).get(URL, {"month": "2025-07"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html


def test_an_empty_workspace_says_what_to_do(org, client_for, today):
    response = page(client_for(org.admin))

    assert response.context["overview"].empty
    assert "Os números aparecem quando os clientes têm assinaturas" in response.content.decode()


def test_the_page_reads_rollups_in_constant_queries(built, client_for, django_assert_max_num_queries):
    client = client_for(built.org.leader_a)
    page(client, period="year", month="2025-08")

    # 20 for a leader: the session and user; the stale months (refresh, in a savepoint) of the eager run; the CSMs
    # the filter offers; the gross margin; the rollups (period totals, months, last build); the per-CSM table; the
    # cohort cells; the churn reasons; the churn requests and the UTI (requests, stays ended, stays at 90 days); unit
    # economics (the workspace's period totals and months, its spend, its new customers by first paid day); the CS
    # operations (the service model policies, milestones, handoffs, reviews, detractor answers, tasks, NPS answers,
    # the people's names).
    with django_assert_max_num_queries(28) as few:
        page(client, period="year", month="2025-08")
    from tests.portfolio.factories import CustomerFactory, subscribe

    for n in range(5):
        extra = CustomerFactory(name=f"Mais {n}", owner=built.lucas, start_date=date(2025, 2, 1))
        subscribe(extra, 100 * R, start=date(2025, 2, 1))
    rollups.rebuild_all()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page(client, period="year", month="2025-08")


def test_a_long_drill_down_is_paged_and_its_total_still_adds_up(built, client_for, monkeypatch):
    monkeypatch.setattr("metrics.selectors.DRILL_PAGE_SIZE", 3)
    client = client_for(built.org.leader_a)

    first = drill(client, "mrr", period="month", month="2025-06")
    last = drill(client, "mrr", period="month", month="2025-06", page=3)
    beyond = drill(client, "mrr", period="month", month="2025-06", page=99)

    assert (first["page"].count, first["page"].pages, len(first["rows"])) == (7, 3, 3)
    assert first["total_cents"] == last["total_cents"] == 4700 * R
    assert [r.customer.name for r in last["rows"]] == ["Teta"]  # the smallest MRR comes last
    assert beyond["page"].number == 1
    html = client.get(DRILL, {"figure": "mrr", "period": "month", "month": "2025-06"}).content.decode()
    assert "period=month&amp;month=2025-06&amp;figure=mrr&amp;page=2" in html


def test_the_drill_down_runs_in_constant_queries(built, client_for, django_assert_num_queries):
    client = client_for(built.org.leader_a)
    drill(client, "mrr", period="year", month="2025-08")

    # Session and user; the leader's teams' people (read once for the request); the stale months (refresh, in a
    # savepoint) of the eager run; the CSMs the filter offers; the visible owners; the customers' stored facts of the
    # period; the customers; and for the MRR (every paying customer), its count and total from the period's rollups.
    # A cohort cell's: the same but the rollups.
    with django_assert_num_queries(11):
        drill(client, "mrr", period="year", month="2025-08")
    with django_assert_num_queries(10):
        drill(client, "mrr", period="month", month="2025-04", cohort="2025-01", owner=built.lucas.pk)


def test_the_navigation_offers_metrics(built, client_for):
    response = client_for(built.org.leader_a).get(reverse("home"))

    assert URL in response.content.decode()


EXPORT = reverse("metrics:export")


def csv_rows(client, **params) -> list[list[str]]:
    import csv

    response = client.get(EXPORT, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(response.content.decode().splitlines()))


def test_the_csv_tables_carry_the_pages_numbers(built, client_for):
    client = client_for(built.org.leader_a)
    params = {"period": "quarter", "month": "2025-06"}

    movements = csv_rows(client, table="movements", **params)
    csms = csv_rows(client, table="csms", **params)
    headline = csv_rows(client, table="headline", **params)
    customers = csv_rows(client, table="customers", figure="churn", **params)

    assert movements[1:] == [
        ["2025-04", "1100.00", "0.00", "0.00", "0.00", "800.00", "300.00", "5300.00", "1"],
        ["2025-05", "0.00", "0.00", "0.00", "500.00", "400.00", "-900.00", "4400.00", "1"],
        ["2025-06", "0.00", "0.00", "600.00", "300.00", "0.00", "300.00", "4700.00", "0"],
    ]
    assert [row[:3] for row in csms[1:]] == [
        ["Beatriz Santos", "1000.00", "1"], ["Lucas Almeida", "3700.00", "6"], ["Total da equipe", "4700.00", "7"],
    ]  # fmt: skip
    assert ["Churn de clientes", "0.166667", "", ""] in headline
    assert sum(Decimal(row[1]) for row in customers[1:]) == Decimal("1200.00")


def test_a_csm_exports_only_their_own_row_and_the_median(built, client_for):
    rows = csv_rows(client_for(built.beatriz), table="csms", month="2025-07")

    assert [row[0] for row in rows[1:]] == ["Beatriz Santos", "Mediana da equipe"]


def test_an_unknown_export_is_404(built, client_for):
    client = client_for(built.org.leader_a)

    assert client.get(EXPORT, {"table": "secrets"}).status_code == 404
    assert client.get(EXPORT, {"table": "customers", "figure": "nope"}).status_code == 404


PAYING_LISTS = ["arpa", "arr", "customers_start", "mrr", "mrr_start", "paying"]
MOVEMENTS = ["churn", "contraction", "expansion", "new", "reactivation"]


def test_every_figure_whose_count_and_total_come_from_the_rollups_is_checked_below():
    assert sorted(selectors.ROLLED) == sorted(PAYING_LISTS + MOVEMENTS)


@pytest.mark.parametrize("figure", PAYING_LISTS)
@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("leader_a", {"period": "quarter", "month": "2025-08"}),
        ("leader_a", {"period": "month", "month": "2025-07", "segment": "mid"}),
        ("beatriz", {"period": "quarter", "month": "2025-06"}),
    ],
)
def test_the_largest_drill_downs_count_and_total_come_from_the_rollups_and_equal_their_rows(built, figure, who, params):
    # given the leader or a CSM, and a period's list of every paying customer (at the end, or at the start)
    user = built.beatriz if who == "beatriz" else built.org.leader_a
    _form, period, filters = read_metrics_request(user, QueryDict(urlencode(params)))

    # when the first page is read, and then every row
    first = selectors.drilldown(user, period, filters, figure)
    every = selectors.drilldown(user, period, filters, figure, per_page=10_000)

    # then the count and total (from the rollups) are those of the rows themselves
    assert (first.count, first.total_cents) == (len(every.rows), sum(row.amount_cents for row in every.rows))
    assert first.count > 0


@pytest.mark.parametrize("figure", MOVEMENTS)
@pytest.mark.parametrize(("who", "params"), [("leader_a", {"period": "year", "month": "2025-08"})])
def test_a_movements_drill_down_counts_and_totals_from_the_rollups_equal_its_rows(built, figure, who, params):
    # given the leader and a year's customers who moved (new, expanded, reactivated, contracted or churned MRR)
    user = built.org.leader_a
    _form, period, filters = read_metrics_request(user, QueryDict(urlencode(params)))

    # when the first page is read, and then every row
    first = selectors.drilldown(user, period, filters, figure)
    every = selectors.drilldown(user, period, filters, figure, per_page=10_000)

    # then the count and total (from the rollups) are those of the rows, which come largest first
    assert (first.count, first.total_cents) == (len(every.rows), sum(row.amount_cents for row in every.rows))
    amounts = [row.amount_cents for row in every.rows]
    assert amounts == sorted(amounts, reverse=True)
    assert first.count > 0


# Session and user, the leader's teams' people (read once for the request), the stale months (eager run) and the
# CSMs the filter offers, then each part's own reads. The per-CSM and CS operations panels read two more for a leader:
# whether the door lets them through to every customer (the people outside their teams, then a customer outside it),
# which spares their other reads the door's join; and the CS operations' tallies' build (none here: the quarter's
# months are counted live).
QUERIES = {
    "metrics:overview": 11,
    "metrics:panel_reasons": 8,
    "metrics:panel_unit_economics": 12,
    "metrics:panel_cohorts": 8,
    "metrics:panel_csms": 15,
    "metrics:panel_save": 10,
    "metrics:panel_operations": 17,
}


@pytest.mark.parametrize("route", sorted(QUERIES))
def test_the_page_and_each_panel_read_in_a_fixed_number_of_queries(built, client_for, route, django_assert_num_queries):
    client = client_for(built.org.leader_a)
    params = {"period": "quarter", "month": "2025-06"}
    client.get(reverse(route), params, headers={"HX-Request": "true"})

    with django_assert_num_queries(QUERIES[route]):
        response = client.get(reverse(route), params, headers={"HX-Request": "true"})

    assert response.status_code == 200
