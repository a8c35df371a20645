"""The leader's view of health: the bands today with their MRR, per CSM, the last 90 days, the overrides in
force, and the customers behind each count, all within the door."""

import re
from datetime import timedelta

import pytest

from accounts.models import User
from core import clock
from health.selectors_leader import HealthCustomerFilters, health_customers, health_overview
from portfolio import services
from portfolio.models import ChurnReason
from tests.health.leader_factories import override, score
from tests.portfolio.factories import CustomerFactory, hand_off, subscribe

pytestmark = pytest.mark.django_db


def customer(owner, name, value, mrr=100_000):
    c = CustomerFactory(owner=owner, name=name)
    subscribe(c, amount_cents=mrr)
    if value != "unscored":
        score(c, clock.today(), value)
    c.refresh_from_db()
    return c


@pytest.fixture
def book(org):
    """Team A: Lucas with two reds, a green and one with no score; Beatriz with a yellow. Team B: Camila's red."""
    return {
        "lucas_red_1": customer(org.csm_a, "Padaria Aurora", 30, 100_000),
        "lucas_red_2": customer(org.csm_a, "Clínica Boa Vista", 45, 250_000),
        "lucas_green": customer(org.csm_a, "Escola Horizonte", 90, 50_000),
        "lucas_none": customer(org.csm_a, "Ótica Central", None, 70_000),
        "beatriz_yellow": customer(org.csm_a2, "Farmácia Sol", 60, 80_000),
        "camila_red": customer(org.csm_b, "Mercado Vizinho", 20, 300_000),
    }


def test_a_leader_sees_the_team_by_band_with_its_mrr_and_per_csm(org, book):
    data = health_overview(org.leader_a)

    assert {band: (cell.count, cell.mrr_cents) for band, cell in data.totals.items()} == {
        "red": (2, 350_000),
        "yellow": (1, 80_000),
        "green": (1, 50_000),
        "none": (1, 70_000),
    }
    rows = {row.name: {band: cell.count for band, cell in row.bands.items()} for row in data.csms}
    assert rows == {
        "Lucas Almeida": {"red": 2, "yellow": 0, "green": 1, "none": 1},
        "Beatriz Santos": {"red": 0, "yellow": 1, "green": 0, "none": 0},
    }


def test_an_admin_sees_everyone_and_a_csm_their_own_portfolio(org, book):
    everyone = health_overview(org.admin)
    own = health_overview(org.csm_a)

    assert everyone.totals["red"].count == 3
    assert {row.name for row in everyone.csms} == {"Lucas Almeida", "Beatriz Santos", "Camila Ferreira"}
    assert [row.name for row in own.csms] == ["Lucas Almeida"]
    assert own.customers == 4


def test_churned_customers_are_not_counted(org, book):
    gone = book["lucas_red_1"]
    hand_off(gone, org.csm_a)
    request = services.churn_request_open(
        customer=gone, kind="voluntary", reason=ChurnReason.objects.get(code="budget-cut"),
        detail="Fusão com outra rede cortou o orçamento de ferramentas em 40%", actor=org.csm_a,
    )  # fmt: skip
    services.churn_request_resolve(churn_request=request, outcome="churned", actor=org.csm_a)

    assert health_overview(org.leader_a).totals["red"].count == 1


def test_the_trend_has_a_point_per_week_from_the_scores(org, book):
    today = clock.today()
    score(book["lucas_green"], today - timedelta(weeks=1), 40)
    score(book["beatriz_yellow"], today - timedelta(weeks=1), 80)
    score(book["lucas_green"], today - timedelta(weeks=2), 55)
    score(book["lucas_green"], today - timedelta(days=3), 10)  # not a weekly point
    score(book["camila_red"], today - timedelta(weeks=1), 10)  # another team's

    trend = health_overview(org.leader_a).trend

    assert [(p.day, p.counts) for p in trend] == [
        (today - timedelta(weeks=2), {"red": 0, "yellow": 1, "green": 0, "none": 0}),
        (today - timedelta(weeks=1), {"red": 1, "yellow": 0, "green": 1, "none": 0}),
        (today, {"red": 2, "yellow": 1, "green": 1, "none": 1}),
    ]


def test_the_overrides_in_force_show_the_band_set_against_the_computed_one(org, book):
    until = clock.today() + timedelta(days=20)
    override(book["lucas_red_2"], band="yellow", reason="Renovação assinada ontem", by=org.csm_a, ends_on=until)
    ended = override(book["lucas_green"], band="red", reason="Antiga", by=org.csm_a, ends_on=until)
    ended.ended_at = clock.now()
    ended.save()
    override(book["camila_red"], band="green", reason="Outro time", by=org.csm_b, ends_on=until)

    overrides = health_overview(org.leader_a).overrides

    assert [(o.customer.name, o.band, o.computed_band, o.reason, o.by, o.until) for o in overrides] == [
        ("Clínica Boa Vista", "yellow", "red", "Renovação assinada ontem", "Lucas Almeida", until)
    ]


def test_the_overview_page_links_each_count_to_its_customers(org, book, client_for):
    response = client_for(org.leader_a).get("/health/")

    assert response.status_code == 200
    assert f'href="/health/customers/?band=red&amp;owner={org.csm_a.pk}"' in response.text
    assert 'href="/health/customers/?band=red"' in response.text
    assert "Mercado Vizinho" not in response.text
    assert 'aria-current="page">Saúde<' in response.text
    assert "<svg" in response.text
    assert "style=" not in response.text.split('<main id="main"')[1]


def test_the_count_leads_to_exactly_those_customers(org, book, client_for):
    response = client_for(org.leader_a).get(f"/health/customers/?band=red&owner={org.csm_a.pk}")

    names = re.findall(r"<strong>([^<]+)</strong></a>", response.text)
    assert sorted(names) == ["Clínica Boa Vista", "Padaria Aurora"]
    assert "2 clientes" in response.text


def test_no_score_and_no_csm_are_filters_too(org, book):
    unscored = health_customers(org.leader_a, HealthCustomerFilters(band="none"), page_number=1)
    nobody = health_customers(org.admin, HealthCustomerFilters(owner="none"), page_number=1)

    assert [c.name for c in unscored.page] == ["Ótica Central"]
    assert list(nobody.page) == []


def test_another_teams_csm_in_the_filter_shows_nothing(org, book, client_for):
    response = client_for(org.leader_a).get(f"/health/customers/?band=red&owner={org.csm_b.pk}")

    assert response.status_code == 200
    assert "Mercado Vizinho" not in response.text
    assert "0 cliente," in response.text


def test_a_csm_filtering_on_a_colleague_sees_nothing_of_theirs(org, book, client_for):
    response = client_for(org.csm_a).get(f"/health/customers/?owner={org.csm_a2.pk}")

    assert "Farmácia Sol" not in response.text


def test_the_csm_filter_offers_the_csms_of_the_customers_in_scope(org, book):
    # given a customer of Camila's (team B) that Lucas is the farmer of, and one of Beatriz's that churned
    farmed = customer(org.csm_b, "Loja Parceira", 70)
    farmed.farmer = org.csm_a
    farmed.save(update_fields=["farmer"])
    churned = customer(org.csm_a2, "Bar Antigo", 50)
    churned.stage = "churned"
    churned.save(update_fields=["stage"])

    def owners(person) -> list[int]:
        return [pk for pk, _ in health_customers(person, HealthCustomerFilters(), page_number=1).owners]

    by_name = sorted([org.csm_a, org.csm_a2, org.csm_b], key=lambda person: person.full_name)
    assert owners(org.csm_a) == [p.pk for p in by_name if p != org.csm_a2]  # his own, and Camila's he farms
    assert owners(org.csm_a2) == [org.csm_a2.pk]
    assert owners(org.csm_b) == [org.csm_b.pk]
    assert owners(org.leader_a) == [p.pk for p in by_name if p != org.csm_b]  # the CSMs of the team
    assert owners(org.admin) == [p.pk for p in by_name]


def test_unknown_filters_are_no_filter(org, book, client_for):
    response = client_for(org.csm_a).get("/health/customers/?band=purple&owner=abc")

    assert response.status_code == 200
    assert "4 clientes" in response.text


def test_the_filter_form_answers_htmx_with_the_list_alone(org, book, client_for):
    response = client_for(org.leader_a).get("/health/customers/?band=green", HTTP_HX_REQUEST="true")

    assert "<html" not in response.text
    assert 'id="results"' in response.text
    assert "Escola Horizonte" in response.text


def test_the_pages_take_a_fixed_number_of_queries_as_customers_grow(org, book, client_for,
                                                                    django_assert_max_num_queries):  # fmt: skip
    client = client_for(org.leader_a)
    today = clock.today()
    client.get("/health/")

    def grow():
        for i in range(5):
            c = customer(org.csm_a2, f"Cliente extra {i}", 20 + i * 15)
            score(c, today - timedelta(weeks=1), 50)
            override(c, band="green", reason="Visita", by=org.csm_a2, ends_on=today + timedelta(days=3))

    # two pages, each reading once the leader's teams' people and asking whether her door lets her through to every
    # customer (three reads each)
    with django_assert_max_num_queries(16) as before:
        client.get("/health/")
        client.get("/health/customers/?band=red")
    grow()
    with django_assert_max_num_queries(16) as after:
        client.get("/health/")
        client.get("/health/customers/?band=red")

    assert len(after.captured_queries) == len(before.captured_queries)


def test_the_health_pages_read_in_english_for_someone_who_chose_it(org, book, client_for):
    User.objects.filter(pk=org.leader_a.pk).update(language="en")
    org.leader_a.refresh_from_db()
    client = client_for(org.leader_a)

    overview = client.get("/health/")
    listing = client.get(f"/health/customers/?band=red&owner={org.csm_a.pk}")
    rules = client.get("/health/profiles/")

    assert "Overrides in force" in overview.text
    assert 'aria-label="Lucas Almeida, Red: 2"' in overview.text
    assert "R$\u00a03,500.00 MRR" in overview.text
    assert "Red · Lucas Almeida" in listing.text
    assert "2 customers, R$\u00a03,500.00 MRR" in listing.text
    assert "High-touch · Ongoing" in rules.text
