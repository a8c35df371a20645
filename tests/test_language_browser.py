"""In a real browser, in Portuguese: My day's date names its month in lower case, and the admin names every
model in Portuguese. Screenshots to look at."""

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from tests.conftest import screenshot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_my_day_date_and_the_admin_read_as_portuguese(page, login_page, org):
    # given a CSM on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    login_page(page, org.csm_a)

    # when she opens My day, then today's date reads "2 de dezembro de 2026"
    page.goto(f"{page.base_url}/")
    with translation.override("pt-br"):
        today = formats.date_format(timezone.localdate(), "DATE_FORMAT")
    expect(page.get_by_text(today)).to_be_visible()
    screenshot(page, "language-1-my-day-phone")

    # when an admin opens Django's admin on a desktop, then the models have Portuguese names
    admin = UserFactory(role="admin", is_staff=True, is_superuser=True, full_name="Renata Azevedo")
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 800})
    login_page(page, admin)
    page.goto(f"{page.base_url}/admin/")
    for name in ("Movimentos de MRR", "Critérios do CHI", "Campanhas de pesquisa", "Clientes"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert "Mrr movements" not in page.content()
    screenshot(page, "language-2-admin")
