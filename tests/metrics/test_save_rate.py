"""The churn requests and UTI card of the metrics page: the save rate by hand, the door, and the customers
behind each number."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from metrics import rollups
from portfolio.models import (
    ChurnCategory,
    ChurnKind,
    ChurnOutcome,
    ChurnReason,
    ChurnRequest,
    ServiceModelPolicy,
    UtiExit,
    UtiStay,
)
from portfolio.taxonomy import install_defaults
from tests.metrics.conftest import R
from tests.portfolio.factories import CustomerFactory, subscribe

URL = reverse("metrics:panel_save")
DRILL = reverse("metrics:drilldown")
JUNE = {"period": "month", "month": "2025-06"}


def request_for(customer, asked: date, outcome=ChurnOutcome.OPEN, risk=100 * R) -> ChurnRequest:
    return ChurnRequest.objects.create(
        customer=customer,
        kind=ChurnKind.VOLUNTARY,
        reason=ChurnReason.objects.get(code="missing-integration"),
        detail="Sem integração com o ERP",
        requested_on=asked,
        mrr_at_risk_cents=risk,
        outcome=outcome,
    )


@pytest.fixture
def saves(org):
    install_defaults(ChurnCategory, ChurnReason, ServiceModelPolicy)
    made = {}

    def customer(name, owner):
        made[name] = CustomerFactory(name=name, owner=owner, start_date=date(2025, 1, 1))
        return made[name]

    # June, team A: two saved (one with a downsell), one lost, one still open.
    request_for(customer("Alfa", org.csm_a), date(2025, 6, 3), ChurnOutcome.RECOVERED, 100 * R)
    request_for(customer("Beta", org.csm_a2), date(2025, 6, 10), ChurnOutcome.DOWNSELL, 200 * R)
    request_for(customer("Gama", org.csm_a), date(2025, 6, 20), ChurnOutcome.CHURNED, 300 * R)
    request_for(customer("Delta", org.csm_a), date(2025, 6, 30), ChurnOutcome.OPEN, 400 * R)
    # Outside June: May's request, and July's, still open.
    request_for(customer("Épsilon", org.csm_a), date(2025, 5, 31), ChurnOutcome.CHURNED)
    request_for(customer("Eta", org.csm_a), date(2025, 7, 1), ChurnOutcome.OPEN)
    # Another team's June request: never counted for team A.
    request_for(customer("Zeta", org.csm_b), date(2025, 6, 15), ChurnOutcome.CHURNED)

    # UTI: Iota pays throughout; Kappa never paid. Both stays started in March, their 90th day falls in June.
    iota, kappa = customer("Iota", org.csm_a), customer("Kappa", org.csm_a)
    subscribe(iota, 500 * R, start=date(2025, 1, 1))
    for who, started, exit_, exited in (
        (iota, date(2025, 3, 10), UtiExit.RECOVERED, date(2025, 4, 9)),
        (kappa, date(2025, 3, 20), UtiExit.CHURNED, date(2025, 6, 5)),
    ):
        saved = request_for(who, started, ChurnOutcome.RECOVERED, 50 * R)
        UtiStay.objects.create(
            customer=who,
            churn_request=saved,
            started_on=started,
            ends_on=date(2025, 4, 20),
            exit=exit_,
            exited_on=exited,
        )
    # Another team's stay, ended in June, 90th day in June: not counted either.
    lam = customer("Lambda", org.csm_b)
    other = request_for(lam, date(2025, 3, 15), ChurnOutcome.RECOVERED)
    UtiStay.objects.create(
        customer=lam, churn_request=other, started_on=date(2025, 3, 15), ends_on=date(2025, 4, 15),
        exit=UtiExit.CHURNED, exited_on=date(2025, 6, 2),
    )  # fmt: skip
    rollups.rebuild_all()  # the page shows its cards once the period has MRR (Iota's)
    return made


def drilled(client, figure, **params) -> list[str]:
    response = client.get(DRILL, {"figure": figure, **JUNE, **params})
    assert response.status_code == 200
    return sorted(row.customer.name for row in response.context["rows"])


def test_two_saved_one_lost_one_open_is_a_save_rate_of_two_thirds(saves, org, client_for):
    response = client_for(org.leader_a).get(URL, JUNE)

    save = response.context["save"]
    assert (save.opened, save.saved, save.lost, save.still_open) == (4, 2, 1, 1)
    assert save.save_rate.value == Decimal(2) / Decimal(3)
    html = response.content.decode()
    assert 'id="save-rate-value"' in html
    assert "66,7\u00a0%" in html


def test_with_nothing_decided_the_save_rate_is_a_dash_with_why(saves, org, client_for):
    response = client_for(org.leader_a).get(URL, {"period": "month", "month": "2025-07"})

    save = response.context["save"]
    assert (save.opened, save.saved, save.lost, save.still_open) == (1, 0, 0, 1)
    assert save.save_rate.value is None
    html = response.content.decode()
    value = html.split('id="save-rate-value">', 1)[1].split("</strong>", 1)[0]
    assert "—" in value
    assert "nenhum foi salvo ou perdido" in value


def test_the_uti_outcome_counts_stays_ended_and_customers_paying_on_their_90th_day(saves, org, client_for):
    save = client_for(org.leader_a).get(URL, JUNE).context["save"]

    # Kappa's stay ended in June (churned after all); Iota's ended in April.
    assert (save.uti_ended, save.uti_recovered, save.uti_churned) == (1, 0, 1)
    # Both reached their 90th day in June; only Iota still paid.
    assert (save.uti_checked, save.uti_paying_90) == (2, 1)
    assert save.uti_paying_rate.value == Decimal(1) / Decimal(2)


def test_another_teams_requests_and_stays_are_not_counted(saves, org, client_for):
    team_b = client_for(org.leader_b).get(URL, JUNE).context["save"]
    csm = client_for(org.csm_a2).get(URL, JUNE).context["save"]

    assert (team_b.opened, team_b.lost, team_b.save_rate.value) == (1, 1, Decimal(0))
    assert (team_b.uti_ended, team_b.uti_checked, team_b.uti_paying_90) == (1, 1, 0)
    # A CSM sees their own portfolio's: Beatriz has Beta's request only.
    assert (csm.opened, csm.saved, csm.save_rate.value) == (1, 1, Decimal(1))


def test_each_number_lists_exactly_the_customers_behind_it(saves, org, client_for):
    client = client_for(org.leader_a)

    assert drilled(client, "requests_opened") == ["Alfa", "Beta", "Delta", "Gama"]
    assert drilled(client, "requests_saved") == ["Alfa", "Beta"]
    assert drilled(client, "requests_lost") == ["Gama"]
    assert drilled(client, "requests_open") == ["Delta"]
    assert drilled(client, "save_rate") == ["Alfa", "Beta", "Gama"]
    assert drilled(client, "uti_ended") == ["Kappa"]
    assert drilled(client, "uti_churned") == ["Kappa"]
    assert drilled(client, "uti_recovered") == []
    assert drilled(client, "uti_checked") == ["Iota", "Kappa"]
    assert drilled(client, "uti_paying_90") == ["Iota"]
    assert drilled(client, "requests_opened", owner=org.csm_a2.pk) == ["Beta"]
    assert drilled(client_for(org.leader_b), "requests_opened") == ["Zeta"]
    # The MRR at risk of the requests behind them adds up.
    response = client.get(DRILL, {"figure": "requests_saved", **JUNE})
    assert response.context["total_cents"] == 300 * R


def test_the_page_links_each_number_to_its_customers(saves, org, client_for):
    html = client_for(org.leader_a).get(URL, JUNE).content.decode()

    for figure in ("requests_opened", "requests_saved", "requests_lost", "requests_open", "save_rate",
                   "uti_ended", "uti_paying_90"):  # fmt: skip
        assert f"figure={figure}" in html


def test_the_drill_down_exports_the_same_customers(saves, org, client_for):
    response = client_for(org.leader_a).get(
        reverse("metrics:export"), {"table": "customers", "figure": "requests_saved", **JUNE}
    )

    text = response.content.decode()
    names = [line.split(",")[0] for line in text.splitlines()[1:]]
    assert sorted(names) == ["Alfa", "Beta"]


def test_the_api_and_the_csv_give_the_cards_numbers(saves, org, client_for, api_for):
    body = api_for(org.leader_a).get("/api/v1/metrics/churn-requests/", JUNE).json()
    csv_text = client_for(org.leader_a).get(reverse("metrics:export"), {**JUNE, "table": "churn_requests"})

    assert (body["requests_opened"], body["requests_saved"], body["requests_lost"], body["requests_open"]) == (
        4, 2, 1, 1,
    )  # fmt: skip
    assert body["save_rate"] == pytest.approx(2 / 3, abs=1e-6)
    assert (body["uti_ended"], body["uti_churned"], body["uti_checked"], body["uti_paying_90"]) == (1, 1, 2, 1)
    assert body["uti_paying_rate"] == 0.5
    rows = [line.split(",") for line in csv_text.content.decode().splitlines()]
    assert rows[1][1:] == ["4", ""]
    assert rows[5][1] == "0.666667"
    assert rows[-1][1] == "0.500000"


def test_the_api_says_why_the_save_rate_is_undefined_and_scopes_a_csm(saves, org, api_for):
    july = api_for(org.leader_a).get("/api/v1/metrics/churn-requests/", {"period": "month", "month": "2025-07"})
    own = api_for(org.csm_a2).get("/api/v1/metrics/churn-requests/", JUNE).json()

    assert july.json()["save_rate"] is None
    assert "nenhum foi salvo ou perdido" in july.json()["save_rate_why"]
    assert (own["requests_opened"], own["requests_saved"]) == (1, 1)  # Beatriz's Beta only


def test_the_card_shows_even_without_mrr(org, client_for, today):
    install_defaults(ChurnCategory, ChurnReason, ServiceModelPolicy)
    alone = CustomerFactory(name="Sem assinatura", owner=org.csm_a, start_date=date(2025, 1, 1))
    request_for(alone, date(2025, 8, 4), ChurnOutcome.CHURNED)

    page = client_for(org.leader_a).get(reverse("metrics:overview"), {"period": "month", "month": "2025-08"})
    response = client_for(org.leader_a).get(URL, {"period": "month", "month": "2025-08"})

    html = response.content.decode()
    assert "Os números aparecem quando os clientes têm assinaturas" in page.content.decode()  # the empty state stays
    assert f'hx-get="{URL}?period=month&amp;month=2025-08"' in page.content.decode()  # and the card is loaded
    assert "Pedidos de churn e a UTI" in html
    assert response.context["save"].lost == 1
    assert 'id="save-requests_lost"' in html
