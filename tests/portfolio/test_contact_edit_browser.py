"""A CSM corrects a contact and archives another from the customer page, on a desktop and on a phone."""

import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot
from tests.portfolio.factories import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 375])
def test_a_csm_edits_and_archives_contacts(page, login_page, org, width):
    page.set_viewport_size({"width": width, "height": 800})
    customer = CustomerFactory(owner=org.csm_a, name="Padaria Pão Quente")
    ana = ContactFactory(customer=customer, name="Ana Prado", email="ana@padaria.com.br")
    bruno = ContactFactory(customer=customer, name="Bruno Saiu", email="bruno@padaria.com.br")
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/customers/{customer.pk}/")

    # a mistyped email: the panel stays open with the message by the field
    page.click("summary:has-text('Editar Ana Prado')")
    page.fill(f"#id_contact-{ana.pk}-email", "ana@")
    page.click(f"form[action$='/contacts/{ana.pk}/'] button[type=submit]")
    error = page.locator(f"#id_contact-{ana.pk}-email_error")
    error.wait_for()
    assert "email válido" in error.inner_text()
    page.locator(f"#id_contact-{ana.pk}-email").scroll_into_view_if_needed()
    screenshot(page, f"contact-edit-error-{width}")

    page.fill(f"#id_contact-{ana.pk}-email", "ana.prado@padaria.com.br")
    page.click(f"form[action$='/contacts/{ana.pk}/'] button[type=submit]")
    expect(page.get_by_text("Contato salvo.")).to_be_visible()
    expect(page.get_by_text("ana.prado@padaria.com.br").first).to_be_visible()

    page.click("summary:has-text('Editar Bruno Saiu')")
    page.click(f"form[action$='/contacts/{bruno.pk}/archive/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Contato arquivado: Bruno Saiu.").is_visible()
    assert page.locator("#contacts-h").is_visible()
    page.locator("#contacts-h").scroll_into_view_if_needed()
    screenshot(page, f"contact-archived-{width}")
    assert page.locator("summary:has-text('Editar Bruno Saiu')").count() == 0
