"""A CSM team walks a customer through the whole journey in a real browser."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from portfolio.models import Customer, Stage
from tests.conftest import screenshot
from tests.portfolio.factories import CustomerFactory, subscribe
from tests.portfolio.test_services import ongoing_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def speak_english(*users):
    User.objects.filter(pk__in=[u.pk for u in users]).update(language="en")


def test_onboarding_to_handoff_to_review_to_churn_to_uti(page, login_page, org):
    speak_english(org.ism_a, org.csm_a)

    # given an ISM who creates a new high-touch customer
    login_page(page, org.ism_a)
    page.goto(f"{page.base_url}/customers/new/")
    page.get_by_label("Name").fill("Padaria Pão Dourado")
    page.get_by_label("CNPJ").fill("11.222.333/0001-81")
    page.get_by_label("Service model").select_option("high")
    page.get_by_label("CSM after handoff").select_option(str(org.csm_a.pk))
    screenshot(page, "journey-1-new-customer")
    page.get_by_role("button", name="Create and start onboarding").click()
    customer = Customer.objects.get(name="Padaria Pão Dourado")
    subscribe(customer, amount_cents=300_000)
    expect(page.get_by_role("heading", name="Onboarding milestones")).to_be_visible()
    # when the ISM marks first value reached and records the handoff
    page.get_by_role("button", name="Mark reached").first.click()
    expect(page.get_by_text("Milestone reached.")).to_be_visible()
    screenshot(page, "journey-2-onboarding")
    page.get_by_role("link", name="Record the handoff").click()
    page.get_by_label("Ongoing CSM").select_option(str(org.csm_a.pk))
    page.get_by_label("How it happened").select_option("email")
    page.get_by_label("Results achieved in onboarding").fill("50 leads importados, funil no ar")
    page.get_by_label("The customer's goals ahead").fill("Dobrar a conversão em seis meses")
    page.get_by_label("Key stakeholders").fill("Ana (diretora, decisora); Bruno (champion)")
    page.get_by_role("button", name="Complete the handoff").click()

    # then a high-touch handoff by email is refused, keeping what was typed
    expect(page.get_by_text("High-touch customers are handed off in a meeting").first).to_be_visible()
    expect(page.get_by_label("Results achieved in onboarding")).to_have_value("50 leads importados, funil no ar")
    screenshot(page, "journey-3-handoff-refused")
    page.get_by_label("How it happened").select_option("meeting")
    page.get_by_role("button", name="Complete the handoff").click()
    expect(page.get_by_text("is now ongoing")).to_be_visible()
    customer.refresh_from_db()
    assert customer.stage == Stage.ONGOING

    # when the CSM holds the first success review
    page.context.clear_cookies()
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/customers/{customer.pk}/")
    page.get_by_role("link", name="Hold the review").click()
    page.get_by_label("Which goals from the last cycle were reached?").fill("Funil configurado e 50 leads")
    page.get_by_label("What are the goals for the next cycle?").fill("Integração com o ERP")
    page.get_by_label("Goals agreed for the next cycle (one per line)").fill("Integrar ERP\nTreinar time de vendas")
    page.get_by_label("Outcome").fill("Cliente satisfeito, segue para expansão")
    screenshot(page, "journey-4-review")
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_role("heading", name="Where we go next")).to_be_visible()
    screenshot(page, "journey-5-review-report")

    # when the customer asks to cancel, a vague reason is refused
    page.goto(f"{page.base_url}/customers/{customer.pk}/")
    page.get_by_text("Record a churn request").click()
    page.get_by_label("Reason").select_option(label="Price → Budget cut (merger, restructuring, crisis)")
    page.get_by_label("What exactly happened").fill("não viu valor")
    page.get_by_role("button", name="Record the churn request").click()
    expect(page.get_by_text("too vague to act on")).to_be_visible()
    expect(page.get_by_label("What exactly happened")).to_have_value("não viu valor")
    screenshot(page, "journey-6-vague-reason")
    page.get_by_label("What exactly happened").fill("A fusão com a rede Trigo cortou 40% do orçamento de ferramentas")
    page.get_by_role("button", name="Record the churn request").click()
    expect(page.get_by_text("Open churn request").first).to_be_visible()
    # and the CSM logs an offer and saves the customer
    page.get_by_text("Log a save attempt").click()
    page.get_by_label("What was offered").fill("Dois meses com 30% de desconto")
    page.get_by_role("button", name="Save the attempt").click()
    expect(page.get_by_text("Save attempt recorded.")).to_be_visible()
    page.get_by_text("Close the request").click()
    page.get_by_label("Outcome").select_option("recovered")
    page.get_by_role("button", name="Record the outcome").click()

    # then the customer is in UTI with its recovery month
    expect(page.get_by_text("starts its recovery month in UTI")).to_be_visible()
    expect(page.get_by_text("30 days left in the recovery month")).to_be_visible()
    screenshot(page, "journey-7-uti")
    customer.refresh_from_db()
    assert customer.stage == Stage.UTI
    page.get_by_role("navigation", name="Main").get_by_role("link", name="UTI").click()
    expect(page.get_by_role("link", name="Padaria Pão Dourado")).to_be_visible()
    screenshot(page, "journey-8-uti-board")


def test_my_day_and_portfolio_in_portuguese_on_a_phone(browser, live_server, login_page, org):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-BR")
    page = context.new_page()
    page.base_url = live_server.url
    for n in range(3):
        subscribe(CustomerFactory(name=f"Cliente Exemplo {n}", owner=org.csm_a), amount_cents=120_000 * (n + 1))
    handed_off = ongoing_customer(org)
    login_page(page, org.csm_a)
    changed = page.get_by_role("region", name="Mudaram de etapa desde ontem")
    expect(changed.get_by_role("link", name=handed_off.name)).to_be_visible()
    expect(changed.get_by_text("Implantação")).to_be_visible()
    screenshot(page, "my-day-phone")
    page.goto(f"{page.base_url}/portfolio/")
    expect(page.get_by_role("link", name="Cliente Exemplo 2")).to_be_visible()
    page.get_by_label("Buscar", exact=True).fill("Exemplo 1")  # the top bar searches everything
    page.wait_for_url("**q=Exemplo*")
    expect(page.get_by_role("link", name="Cliente Exemplo 2")).to_have_count(0)
    screenshot(page, "portfolio-phone")
    context.close()
