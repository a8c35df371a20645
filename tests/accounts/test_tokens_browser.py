"""A person makes an API token on their profile and revokes it; an admin makes an integration token. Desktop and
phone; screenshots under test-artifacts/."""

import pytest
from playwright.sync_api import expect

from accounts.models import ApiToken, TokenScope
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 375])
def test_a_person_creates_a_token_sees_it_once_and_revokes_it(page, login_page, org, width):
    page.set_viewport_size({"width": width, "height": 800})
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/profile/")

    # when they name a token and create it
    page.get_by_label("Nome do token").fill("Planilha de relatórios")
    page.get_by_role("button", name="Criar um token").click()

    # then its key is shown once, and the list names it by its prefix
    key = page.locator("#new-key").inner_text()
    token = ApiToken.objects.get(user=org.csm_a)
    assert key.startswith(token.prefix)
    expect(page.get_by_role("heading", name="Copie a chave agora")).to_be_visible()
    expect(page.get_by_role("cell", name="Planilha de relatórios", exact=True)).to_be_visible()
    screenshot(page, f"profile-token-created-{width}")
    page.goto(f"{page.base_url}/profile/")
    expect(page.locator("#new-key")).to_have_count(0)

    # when they revoke it, it leaves the list
    page.get_by_role("button", name="Revogar Planilha de relatórios").click()
    expect(page.get_by_text("foi revogado")).to_be_visible()
    expect(page.get_by_role("cell", name="Planilha de relatórios", exact=True)).to_have_count(0)
    screenshot(page, f"profile-token-revoked-{width}")


@pytest.mark.parametrize("width", [1280, 375])
def test_an_admin_creates_an_integration_token(page, login_page, org, width):
    page.set_viewport_size({"width": width, "height": 800})
    login_page(page, org.admin)
    page.goto(f"{page.base_url}/integrations/")

    page.get_by_label("Nome do token").fill("Eventos do produto")
    page.get_by_role("button", name="Criar o token").click()

    expect(page.locator("#new-key")).to_be_visible()
    expect(page.get_by_text("criado por Renata Azevedo")).to_be_visible()
    assert ApiToken.objects.get().scope == TokenScope.USAGE_EVENTS
    screenshot(page, f"integrations-{width}")
