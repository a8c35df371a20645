"""Search from anywhere in a real browser: "/" puts the cursor in the top bar, a partial name typed without
accents finds the customer, the arrow keys choose it and Enter opens it."""

import re

import pytest
from playwright.sync_api import expect

from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.workday.browser import device, shot  # noqa: F401 - device is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_slash_type_without_accents_arrow_down_enter_lands_on_the_customer(page, login_page, org, device):  # noqa: F811
    # given a CSM whose customer has an accented name, and another team's customer named alike
    ours = CustomerFactory(owner=org.csm_a, name="Padaria São João")
    CustomerFactory(owner=org.csm_b, name="Açougue São João")
    ContactFactory(customer=ours, name="Maria de São José", email="maria@padaria.com.br")
    login_page(page, org.csm_a)
    field = page.get_by_role("combobox", name="Buscar clientes, contatos e pessoas")
    expect(field).to_have_attribute("aria-expanded", "false")

    # when she presses "/" on My day and types part of the name without accents
    page.keyboard.press("/")
    expect(field).to_be_focused()
    page.keyboard.type("sao jo")

    # then the list opens with her customer and its contact, grouped, and not the other team's
    listbox = page.get_by_role("listbox", name="Resultados da busca")
    expect(listbox.get_by_role("option", name=re.compile("^Padaria São João"))).to_be_visible()
    expect(listbox.get_by_role("option", name=re.compile("Maria de São José"))).to_be_visible()
    expect(listbox.get_by_role("option", name=re.compile("Ver todos os resultados"))).to_be_visible()
    expect(listbox).not_to_contain_text("Açougue")
    expect(field).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("status")).to_have_text(re.compile("2 resultados"))

    # when she moves down to the first option
    page.keyboard.press("ArrowDown")
    first = listbox.get_by_role("option", name=re.compile("^Padaria São João"))
    expect(first).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant", f"search-option-customers-{ours.pk}")
    shot(page, f"search-suggestions-{device}")

    # and presses Enter, she lands on the customer's page
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/customers/{ours.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Padaria São João")

    # and Ctrl-K brings her back to the field from there; Enter with nothing chosen opens the results page
    page.keyboard.press("Control+k")
    expect(field).to_be_focused()
    page.keyboard.type("joao")
    expect(listbox.get_by_role("option").first).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=joao$"))
    expect(page.get_by_role("heading", name="Buscar")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name=re.compile("^Padaria São João"))).to_be_visible()
    shot(page, f"search-page-{device}")


def test_the_results_page_works_without_javascript(browser, live_server, org, client_for):
    # given a CSM's session in a browser that runs no JavaScript
    CustomerFactory(owner=org.csm_a, name="Padaria São João")
    session = client_for(org.csm_a).cookies["sessionid"].value
    context = browser.new_context(java_script_enabled=False, locale="pt-BR")
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()

    # when she submits the top bar's form
    page.goto(f"{live_server.url}/")
    page.get_by_role("combobox", name="Buscar clientes, contatos e pessoas").fill("padaria sao")
    page.keyboard.press("Enter")

    # then the results page lists the customer
    expect(page).to_have_url(re.compile(r"/search/\?q=padaria\+sao$"))
    expect(page.get_by_role("link", name=re.compile("^Padaria São João"))).to_be_visible()
    shot(page, "search-page-no-js")
    context.close()
