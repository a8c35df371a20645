"""The customer page's health panel in a real browser, on a desktop and a 375 px phone: the score, the trend,
why it changed, and the override form refused empty (errors visible) then taken."""

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import clock
from health import services
from portfolio.models import Customer
from tests.health.factories import rule, usage, version
from tests.portfolio.factories import CustomerFactory, hand_off

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/health")  # noqa: S108 - where the screenshots are looked at
PHONE = {"width": 375, "height": 812}
TODAY = clock.today()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def panel_shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#health").screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
def gone_red(org):
    """Green (80) for a week, red (40) today: the licences went from 20 to 200."""
    version("high", "ongoing", {"adoption": rule(60, 10, 70), "engagement": rule(40, 4, 22)})
    customer = CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado")
    hand_off(customer, org.csm_a)
    Customer.objects.filter(pk=customer.pk).update(licences=20)
    usage(customer, until=TODAY, users=10, days=60)
    for n in range(20, 0, -1):
        services.scores_recompute(TODAY - timedelta(days=n))
    Customer.objects.filter(pk=customer.pk).update(licences=200)
    services.scores_recompute(TODAY)
    return customer


def override_flow(page, customer, prefix: str) -> None:
    page.goto(f"{page.base_url}/customers/{customer.pk}/#health")
    panel = page.locator("#health")
    expect(panel.get_by_role("heading", name="Saúde")).to_be_visible()
    expect(panel.locator(".health-score")).to_have_text("40")
    expect(panel).to_contain_text("Por que mudou")
    expect(panel).to_contain_text(
        "Uso −40: 10 usuários ativos por dia de 20 licenças → 10 usuários ativos por dia de 200 licenças"
    )
    expect(panel.locator("svg polyline")).to_be_visible()
    panel.scroll_into_view_if_needed()
    shot(page, f"{prefix}-1-page")
    panel_shot(page, f"{prefix}-2-panel")

    # when the CSM opens the override form and sends it empty
    panel.get_by_text("Ajustar a faixa").click()
    page.evaluate("window.stillThisPage = true")
    page.locator("#health").get_by_role("button", name="Ajustar", exact=True).click()

    # then the errors are visible next to their fields, nothing changed, the page did not reload
    expect(page.locator("#id_health_band_error")).to_be_visible()
    expect(page.locator("#id_health_reason_error")).to_be_visible()
    expect(page.locator("#health details#health-override")).to_have_attribute("open", "")
    assert page.evaluate("window.stillThisPage") is True
    panel_shot(page, f"{prefix}-3-errors")

    # when they fill it in
    form = page.locator("#health form.form")
    form.get_by_label("Faixa", exact=True).select_option("yellow")
    form.get_by_label("Por quê").fill("O patrocinador confirmou a renovação ontem; o uso cai nas férias coletivas.")
    form.get_by_role("button", name="Ajustar", exact=True).click()

    # then the panel shows the override beside the computed score
    panel = page.locator("#health")
    expect(panel).to_contain_text("Ajustada")
    expect(panel).to_contain_text("O patrocinador confirmou a renovação ontem")
    expect(panel.locator(".health-band")).to_contain_text("Amarelo")
    expect(panel).to_contain_text("Calculada")
    expect(panel.get_by_role("button", name="Encerrar ajuste")).to_be_visible()
    assert page.evaluate("window.stillThisPage") is True
    panel_shot(page, f"{prefix}-4-overridden")

    # when they end it, the computed band shows again
    panel.get_by_role("button", name="Encerrar ajuste").click()
    expect(page.locator("#health")).not_to_contain_text("Ajustada")
    expect(page.locator("#health .health-score")).to_have_text("40")


def test_the_health_panel_on_a_desktop(page, login_page, org, gone_red):
    login_page(page, org.csm_a)
    override_flow(page, gone_red, "desktop")


def test_the_health_panel_on_a_phone(browser, live_server, login_page, org, gone_red):
    context = browser.new_context(viewport=PHONE, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    login_page(page, org.csm_a)
    override_flow(page, gone_red, "phone")
    # nothing wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


@pytest.mark.parametrize(("device", "viewport"), [("desktop", {"width": 1280, "height": 800}), ("phone", PHONE)])
def test_my_day_asks_for_the_customers_gone_red_as_their_card_comes_into_view(
    browser, live_server, login_page, org, gone_red, device, viewport
):
    context = browser.new_context(viewport=viewport, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    errors, asked = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda request: "/health/red-today/" in request.url and asked.append(request.url))

    # given Lucas on his day, one of his customers gone red today
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/")
    expect(page.locator("#health-red")).to_have_count(1)

    # when he scrolls to the card (in one step in the page: the placeholder is replaced as it comes into view)
    page.evaluate("() => document.getElementById('health-red').scrollIntoView({block: 'center'})")

    # then it is asked for once and shows the customer, the score and the measure that fell, linking to its health
    card = page.locator("#health-red:not(.lazy-panel)")
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", name="Ficaram vermelhos hoje")).to_be_visible()
    expect(card.get_by_role("link", name="Padaria Pão Dourado")).to_have_attribute(
        "href", f"/customers/{gone_red.pk}/#health"
    )
    expect(card).to_contain_text("Uso −40")
    expect(page.locator(".lazy-panel")).to_have_count(0)
    assert len(asked) == 1
    card.scroll_into_view_if_needed()
    shot(page, f"{device}-my-day-gone-red")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert errors == []
    context.close()


def test_my_day_drops_the_card_when_nothing_went_red(page, login_page, org):
    # given Lucas, none of whose customers went red today
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/")
    expect(page.locator("#health-red.lazy-panel")).to_have_count(1)

    # when the card comes into view, it is asked for and goes: nothing to show
    page.evaluate("() => document.getElementById('health-red').scrollIntoView({block: 'center'})")
    expect(page.locator("#health-red")).to_have_count(0)
