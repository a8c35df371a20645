"""Renewals ahead: the 30/60/90-day windows, the MRR at stake summed, the open churn requests, the door, the CSM
filter for leaders, the CSV, and My day's panel of this month's renewals."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from core import clock
from portfolio import selectors, services
from portfolio.models import ChurnReason, Customer, Stage
from tests.portfolio.factories import CustomerFactory, hand_off, subscribe

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("America/Sao_Paulo"))
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def on_the_second_of_december():
    with clock.at(NOW):
        yield


def renewing(owner, name, in_days, mrr_cents):
    customer = CustomerFactory(name=name, renewal_date=TODAY + timedelta(days=in_days))
    hand_off(customer, owner)
    subscribe(customer, amount_cents=mrr_cents)
    customer.refresh_from_db()
    return customer


@pytest.fixture
def book(org):
    """Lucas's renewals at 10, 45 and 80 days and one past; Beatriz's at 20; team B's at 5."""
    return {
        "soon": renewing(org.csm_a, "Padaria Pão Dourado", 10, 150_000),
        "mid": renewing(org.csm_a, "Clínica Bem Viver", 45, 300_000),
        "far": renewing(org.csm_a, "Ótica Visão", 80, 80_000),
        "past": renewing(org.csm_a, "Escola Nova Era", -3, 999_000),
        "beyond": renewing(org.csm_a, "Hotel Sol Nascente", 120, 999_000),
        "colleague": renewing(org.csm_a2, "Mercearia São Jorge", 20, 50_000),
        "other_team": renewing(org.csm_b, "Açougue do Vale", 5, 70_000),
    }


def names(page):
    return [c.name for c in page.page.object_list]


@pytest.mark.parametrize(
    ("window", "expected", "mrr"),
    [
        (30, ["Padaria Pão Dourado"], 150_000),
        (60, ["Padaria Pão Dourado", "Clínica Bem Viver"], 450_000),
        (90, ["Padaria Pão Dourado", "Clínica Bem Viver", "Ótica Visão"], 530_000),
    ],
)
def test_each_window_lists_its_renewals_and_sums_their_mrr(org, book, window, expected, mrr):
    page = selectors.renewals_page(org.csm_a, selectors.RenewalFilters(window=window))

    assert names(page) == expected
    assert page.totals["count"] == len(expected)
    assert page.totals["mrr_cents"] == mrr


def test_a_leader_sees_the_team_and_filters_by_csm_never_another_team(org, book):
    team = selectors.renewals_page(org.leader_a, selectors.RenewalFilters(window=30))
    beatriz = selectors.renewals_page(org.leader_a, selectors.RenewalFilters(window=30, owner=org.csm_a2.pk))

    assert names(team) == ["Padaria Pão Dourado", "Mercearia São Jorge"]
    assert team.totals["mrr_cents"] == 200_000
    assert names(beatriz) == ["Mercearia São Jorge"]
    assert [p.full_name for p in team.owners][:1] == ["Beatriz Santos"]
    assert selectors.renewals_page(org.csm_a, selectors.RenewalFilters()).owners == []


def test_sorted_by_mrr_and_an_open_churn_request_is_flagged(org, book):
    services.churn_request_open(
        customer=book["mid"],
        kind="voluntary",
        reason=ChurnReason.objects.get(code="budget-cut"),
        detail="Fusão com outra rede cortou o orçamento de ferramentas em 40%",
        actor=org.csm_a,
    )

    page = selectors.renewals_page(org.csm_a, selectors.RenewalFilters(window=90, sort="-mrr"))

    assert names(page) == ["Clínica Bem Viver", "Padaria Pão Dourado", "Ótica Visão"]
    assert [c.open_churn for c in page.page.object_list] == [True, False, False]
    assert page.totals["at_risk"] == 1


def test_churned_customers_do_not_renew(org, book):
    services.churn_request_open(
        customer=book["soon"],
        kind="voluntary",
        reason=ChurnReason.objects.get(code="budget-cut"),
        detail="Fusão com outra rede cortou o orçamento de ferramentas em 40%",
        actor=org.csm_a,
    )
    churn = book["soon"].churn_requests.get()
    services.churn_request_resolve(churn_request=churn, outcome="churned", actor=org.csm_a)

    assert names(selectors.renewals_page(org.csm_a, selectors.RenewalFilters(window=30))) == []


def test_the_page_switches_window_with_htmx_and_reads_in_few_queries(
    org, book, client_for, django_assert_max_num_queries
):
    client = client_for(org.leader_a)
    client.get("/renewals/")

    # a leader's page also reads her teams' people once, and asks whether her door lets her through to every customer
    with django_assert_max_num_queries(8):
        fragment = client.get("/renewals/", {"window": "60", "sort": "-mrr"}, HTTP_HX_REQUEST="true")
    for n in range(10):
        renewing(org.csm_a, f"Cliente extra {n}", 15 + n, 10_000)
    with django_assert_max_num_queries(8):
        client.get("/renewals/", {"window": "60", "sort": "-mrr"}, HTTP_HX_REQUEST="true")

    assert "<html" not in fragment.text
    assert fragment.text.index("Clínica Bem Viver") < fragment.text.index("Padaria Pão Dourado")
    assert "Açougue do Vale" not in fragment.text
    assert "R$\xa05.000,00" in fragment.text  # 1,500 + 3,000 + 500 (Beatriz's)
    assert 'href="/renewals/export/?window=60&amp;sort=-mrr"' in fragment.text


def test_the_csv_has_every_renewal_of_the_filters_as_spreadsheet_safe_text(org, book, client_for):
    services.customer_update(customer=book["mid"], actor=org.csm_a, name="=Clínica Bem Viver")

    response = client_for(org.csm_a).get("/renewals/export/", {"window": "60", "sort": "renewal"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="renewals-60d-2026-12-02.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "Cliente",
        "CNPJ",
        "CSM",
        "Estágio",
        "Data de renovação",
        "MRR",
        "Moeda",
        "Último contato",
        "Pedido de churn em aberto",
    ]
    assert [r[0] for r in rows[1:]] == ["Padaria Pão Dourado", "'=Clínica Bem Viver"]
    assert rows[1][2:7] == ["Lucas Almeida", "Acompanhamento", "2026-12-12", "1500.00", "BRL"]
    assert rows[1][8] == "não"


def test_my_days_renewals_total_every_renewal_of_the_month_not_only_those_shown(org, book, django_assert_num_queries):
    # given a churn request open for Mercearia São Jorge (Beatriz's, renewing on 22 December)
    services.churn_request_open(
        customer=book["colleague"],
        kind="voluntary",
        reason=ChurnReason.objects.get(code="budget-cut"),
        detail="Vai trocar de sistema no fim do contrato",
        actor=org.csm_a2,
    )

    # when team A's leader's panel shows one row of this month's renewals
    with django_assert_num_queries(1):
        month = selectors.month_renewals(org.leader_a, TODAY, Q(), shown=1)

    # then the totals are the whole month's: Padaria (12 Dec, R$ 1.500) and Mercearia (22 Dec, R$ 500), one at risk;
    # team B's Açougue (7 Dec) is not the leader's; Clínica Bem Viver renews in January
    assert [c.name for c in month.customers] == ["Padaria Pão Dourado"]
    assert month.totals == {"count": 2, "mrr_cents": 200_000, "at_risk": 1}
    assert month.until == TODAY.replace(day=31)


def test_my_days_renewals_total_zero_when_nothing_renews_this_month(org):
    assert selectors.month_renewals(org.csm_a, TODAY, Q()).totals == {"count": 0, "mrr_cents": 0, "at_risk": 0}


def test_my_day_lists_this_months_renewals_and_links_to_the_page(org, book, client_for):
    day = selectors.my_day(org.csm_a, today=TODAY)
    leader_day = selectors.my_day(org.leader_a, today=TODAY)
    ism_day = selectors.my_day(org.ism_a, today=TODAY)

    assert [c.name for c in day["renewals"].customers] == ["Padaria Pão Dourado"]
    assert day["renewals"].totals["mrr_cents"] == 150_000
    assert [c.name for c in leader_day["renewals"].customers] == ["Padaria Pão Dourado", "Mercearia São Jorge"]
    assert ism_day["renewals"] is None

    page = client_for(org.csm_a).get("/")
    assert "Renovações deste mês" in page.text
    assert 'href="/renewals/?window=30"' in page.text


def test_a_leaders_month_totals_from_the_index_are_the_windows_totals_in_one_query(
    org, book, django_assert_num_queries
):
    # given a churn request open for Mercearia São Jorge (Beatriz's, renewing on 22 December) and one for team B's
    # Açougue (7 December), which team A's leader does not see
    for customer, csm in ((book["colleague"], org.csm_a2), (book["other_team"], org.csm_b)):
        services.churn_request_open(
            customer=customer,
            kind="voluntary",
            reason=ChurnReason.objects.get(code="budget-cut"),
            detail="Vai trocar de sistema no fim do contrato",
            actor=csm,
        )

    # when her panel totals the month in subqueries (a leader's many renewals), one row shown
    with django_assert_num_queries(1):
        month = selectors.month_renewals(org.leader_a, TODAY, Q(), shown=1, many=True)

    # then the totals are the window aggregates' exactly: Padaria and Mercearia, R$ 2.000, one at risk (not team B's)
    assert [c.name for c in month.customers] == ["Padaria Pão Dourado"]
    assert month.totals == {"count": 2, "mrr_cents": 200_000, "at_risk": 1}
    assert month.totals == selectors.month_renewals(org.leader_a, TODAY, Q(), shown=1).totals
    assert type(month.totals["mrr_cents"]) is int
    # and team B's leader's are team B's alone
    assert selectors.month_renewals(org.leader_b, TODAY, Q(), many=True).totals == {
        "count": 1,
        "mrr_cents": 70_000,
        "at_risk": 1,
    }


def test_a_leaders_month_leaves_the_churned_and_the_days_outside_it_out_of_the_totals(org, book):
    # given Padaria churned (it renews nothing) and Clínica Bem Viver's renewal moved to the month's last day
    Customer.objects.filter(pk=book["soon"].pk).update(stage=Stage.CHURNED)
    Customer.objects.filter(pk=book["mid"].pk).update(renewal_date=TODAY.replace(day=31))
    # and Escola Nova Era's on today, Ótica Visão's on the next month's first day
    Customer.objects.filter(pk=book["past"].pk).update(renewal_date=TODAY)
    Customer.objects.filter(pk=book["far"].pk).update(renewal_date=TODAY.replace(day=31) + timedelta(days=1))

    month = selectors.month_renewals(org.leader_a, TODAY, Q(), many=True)

    # then today and the month's last day count, the churned and January do not
    assert [c.name for c in month.customers] == ["Escola Nova Era", "Mercearia São Jorge", "Clínica Bem Viver"]
    assert month.totals == {"count": 3, "mrr_cents": 999_000 + 50_000 + 300_000, "at_risk": 0}
    assert month.totals == selectors.month_renewals(org.leader_a, TODAY, Q()).totals


def test_a_leaders_month_with_nothing_renewing_totals_zero(org):
    assert selectors.month_renewals(org.leader_a, TODAY, Q(), many=True).totals == {
        "count": 0,
        "mrr_cents": 0,
        "at_risk": 0,
    }
