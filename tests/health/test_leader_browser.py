"""The health pages as people use them, on a desktop and a phone: a leader opens the health overview and clicks
a CSM's red count to the customers behind it; an admin changes a weight, first leaving the field empty."""

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import clock
from health.backtest import backtest
from health.models import HealthProfile
from tests.health.leader_factories import override, score
from tests.health.test_backtest_known_answer import known_history
from tests.portfolio.factories import CustomerFactory, subscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "shots" / "healthlead"
PHONE = {"width": 375, "height": 740}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def team_health(org):
    today = clock.today()
    book = [
        (org.csm_a, "Padaria Aurora", 30, 120_000),
        (org.csm_a, "Clínica Boa Vista", 45, 250_000),
        (org.csm_a, "Escola Horizonte", 88, 90_000),
        (org.csm_a2, "Farmácia Sol", 62, 80_000),
        (org.csm_a2, "Auto Peças Rota", 20, 60_000),
        (org.csm_b, "Mercado Vizinho", 15, 300_000),
    ]
    customers = {}
    for owner, name, value, mrr in book:
        customer = CustomerFactory(owner=owner, name=name)
        subscribe(customer, amount_cents=mrr)
        for weeks in range(12, 0, -1):
            score(customer, today - timedelta(weeks=weeks), min(100, value + weeks * 3))
        score(customer, today, value)
        customers[name] = customer
    override(
        customers["Clínica Boa Vista"],
        band="yellow",
        reason="Renovação assinada ontem; o uso volta com a nova equipe",
        by=org.csm_a,
        ends_on=today + timedelta(days=21),
    )
    return customers


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_leader_clicks_a_csms_red_count_and_lands_on_those_customers(page, login_page, org, team_health, device):
    if device == "phone":
        page.set_viewport_size(PHONE)
    # given the team leader logged in
    login_page(page, org.leader_a)

    # when she opens Health from the navigation
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Saúde").click()
    expect(page.get_by_role("heading", name="Saúde", exact=True)).to_be_visible()
    expect(page.locator("#total-red .value")).to_have_text("2")
    expect(page.get_by_role("row", name="Clínica Boa Vista")).to_contain_text("Renovação assinada ontem")
    expect(page.get_by_text("Mercado Vizinho")).to_have_count(0)
    shot(page, f"overview-{device}")

    # and clicks Lucas's red count
    page.get_by_role("link", name="Lucas Almeida, Vermelho: 1").click()

    # then she sees Lucas's red customers, and only them
    expect(page.get_by_role("heading", name="Vermelho · Lucas Almeida")).to_be_visible()
    rows = page.locator("#health-customers tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Padaria Aurora")
    shot(page, f"customers-red-lucas-{device}")

    # and the filter shows Beatriz's red ones without leaving the page
    page.get_by_label("CSM").select_option(label="Beatriz Santos")
    expect(page.locator("#health-customers tbody tr").first).to_contain_text("Auto Peças Rota")
    expect(page).to_have_url(f"{page.base_url}/health/customers/?band=red&owner={org.csm_a2.pk}")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_admin_changes_a_weight_sees_the_error_of_an_empty_field_then_the_new_version(page, login_page, org, device):
    if device == "phone":
        page.set_viewport_size(PHONE)
    profile = HealthProfile.objects.get(service_model="high", stage="ongoing")
    # given the admin on the health score's rules
    login_page(page, org.admin)
    page.goto(f"{page.base_url}/health/")
    page.get_by_role("link", name="Editar as regras da nota").click()
    page.get_by_role("link", name="High-touch · Acompanhamento").click()
    expect(page.get_by_text("vale a partir da próxima execução noturna")).to_be_visible()

    # when she empties the adoption weight and saves
    weight = page.get_by_label("Uso: peso", exact=True)
    weight.fill("")
    page.get_by_role("button", name="Salvar como nova versão").click()

    # then the error shows beside the field and nothing is saved
    expect(page.locator("#id_adoption-weight_error")).to_have_text("Este campo é obrigatório.")
    expect(page.locator("#profile-versions tbody tr")).to_have_count(1)
    shot(page, f"profile-error-{device}")

    # when she types a weight and saves again
    page.get_by_label("Uso: peso", exact=True).fill("25")
    page.get_by_role("button", name="Salvar como nova versão").click()

    # then the new version is listed with who changed what
    expect(page.get_by_text("Versão 2 salva")).to_be_visible()
    newest = page.locator("#version-2")
    expect(newest).to_contain_text("Renata Azevedo")
    expect(newest).to_contain_text("Uso, peso: 20 → 25")
    expect(page.get_by_label("Uso: peso", exact=True)).to_have_value("25")
    shot(page, f"profile-saved-{device}")
    assert profile.versions.count() == 2


def test_the_backtest_says_when_history_is_short(page, login_page, org, team_health):
    login_page(page, org.leader_a)
    page.goto(f"{page.base_url}/health/")
    page.get_by_role("link", name="O vermelho prevê o churn?").click()

    expect(page.get_by_text("Histórico curto demais para julgar a nota ainda.")).to_be_visible()
    shot(page, "backtest-short-desktop")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_backtests_figures_read_on_a_desktop_and_a_phone(page, login_page, org, monkeypatch, device):
    # the figures of the known history (tests/health/test_backtest_known_answer.py), as the page shows them
    monkeypatch.setattr("health.backtest.backtest_for", lambda user: backtest(known_history()))
    if device == "phone":
        page.set_viewport_size(PHONE)
    login_page(page, org.admin)
    page.goto(f"{page.base_url}/health/backtest/")

    expect(page.locator("#backtest-lift .value")).to_have_text("6,0×")
    expect(page.locator("#band-red")).to_contain_text("60,0")
    page.locator("#measure-adoption summary").click()
    expect(page.locator("#measure-adoption")).to_contain_text("Traz sinal")
    shot(page, f"backtest-figures-{device}")
