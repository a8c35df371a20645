import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_csm_logs_in_and_sees_the_shell_in_both_languages(page, login_page, org):
    # given a CSM on the login page, in Portuguese by default
    page.goto(f"{page.base_url}/login/")
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    screenshot(page, "login-pt-br")

    # when they log in
    login_page(page, org.csm_a)

    # then the shell greets them in Portuguese, with the navigation their role gets
    nav = page.get_by_role("navigation", name="Principal")
    expect(nav.get_by_role("link", name="Meu dia")).to_be_visible()
    expect(nav.get_by_role("link", name="Equipe")).to_have_count(0)
    expect(page.get_by_text("Lucas Almeida").first).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "pt-br"
    screenshot(page, "shell-pt-br")

    # when they switch to English, the shell follows and stays English on the next page
    page.get_by_role("button", name="EN").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="My day")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{page.base_url}/profile/")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    screenshot(page, "shell-en")


def test_leader_sees_the_team_entry(page, login_page, org):
    login_page(page, org.leader_a)
    page.get_by_role("link", name="Equipe").click()
    expect(page.get_by_role("cell", name="Beatriz Santos")).to_be_visible()
    expect(page.get_by_text("Camila Ferreira")).to_have_count(0)
    screenshot(page, "team-leader")


def test_keyboard_reaches_the_login_form(page):
    page.goto(f"{page.base_url}/login/")
    focused = page.evaluate("document.activeElement.name")
    assert focused == "username"
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_label("Senha")).to_be_visible()
