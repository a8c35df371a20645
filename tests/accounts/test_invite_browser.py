"""An admin's invitation with a mistake, in a real browser: the form answers 422 and its errors show."""

import pytest
from playwright.sync_api import expect

from accounts.models import Invitation
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_invalid_email_on_the_invitation_shows_its_error(page, login_page, org):
    # given an admin on the invitation page, in Portuguese
    login_page(page, org.admin)
    page.goto(f"{page.base_url}/team/invite/")

    # when she sends it with an email that is not one
    page.get_by_label("Email").fill("ana.souza-arroba-empresa")
    page.get_by_label("Nome").fill("Ana Souza")
    page.get_by_role("button", name="Enviar convite").click()

    # then the form says what is wrong, keeps what she typed, and nobody is invited
    form = page.locator("#invite-form")
    expect(form.get_by_text("Insira um endereço de email válido.")).to_be_visible()
    expect(form.get_by_label("Nome")).to_have_value("Ana Souza")
    assert not Invitation.objects.exists()
    screenshot(page, "invite-invalid-email")

    # when she corrects it, the invitation goes out and the team page says so
    form.get_by_label("Email").fill("ana.souza@empresa.com.br")
    page.get_by_role("button", name="Enviar convite").click()
    page.wait_for_url("**/team/")
    assert Invitation.objects.filter(email="ana.souza@empresa.com.br").exists()
