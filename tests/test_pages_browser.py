"""The error pages and the favicon, as a person sees them."""

import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_error_pages_keep_the_shell_and_the_favicon_shows(page, login_page, org):
    # given nobody logged in, an unknown address is a 404 with the brand and no navigation
    page.goto(f"{page.base_url}/nada-aqui/")
    expect(page.get_by_role("heading", name="Não encontramos esta página")).to_be_visible()
    expect(page.get_by_role("navigation", name="Principal")).to_have_count(0)
    screenshot(page, "error-404-anonymous")

    # when a CSM opens the import page, the 403 keeps the navigation and leads home
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/portfolio/import/")
    expect(page.get_by_role("heading", name="Seu papel não abre esta página")).to_be_visible()
    expect(page.get_by_role("navigation", name="Principal")).to_be_visible()
    screenshot(page, "error-403-csm")
    page.get_by_role("link", name="Ir para a página inicial").click()
    expect(page.get_by_role("heading", name="Tarefas: atrasadas e de hoje")).to_be_visible()

    # and the favicon the pages link is the brand's drawing
    icon = page.locator("link[rel=icon]").get_attribute("href")
    page.set_content(f'<img alt="Leme" width="128" height="128" src="{page.base_url}{icon}">')
    page.wait_for_load_state("load")
    assert page.get_by_role("img", name="Leme").evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "favicon")
