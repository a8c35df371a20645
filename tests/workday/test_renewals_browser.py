"""Renewals ahead in a real browser: from My day to the page, switching the window, exporting the CSV."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.portfolio.factories import CustomerFactory, hand_off, subscribe
from tests.workday.browser import device, shot  # noqa: F401 - device is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def renewing(owner, name, in_days, mrr_cents):
    customer = CustomerFactory(name=name, renewal_date=timezone.localdate() + timedelta(days=in_days))
    hand_off(customer, owner)
    subscribe(customer, amount_cents=mrr_cents)
    return customer


def test_switch_the_window_and_export(page, login_page, org, device):  # noqa: F811
    # given a leader whose team renews one customer in 20 days and one in 50
    renewing(org.csm_a, "Padaria Pão Dourado", 20, 150_000)
    renewing(org.csm_a2, "Clínica Bem Viver", 50, 300_000)
    renewing(org.csm_b, "Açougue do Vale", 10, 70_000)
    login_page(page, org.leader_a)

    # when she opens Renewals from the navigation
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Renovações").click()
    expect(page.get_by_role("heading", level=1, name="Renovações à frente")).to_be_visible()
    table = page.get_by_role("table", name="Renovações à frente")
    expect(table).to_contain_text("Padaria Pão Dourado")
    expect(table).not_to_contain_text("Clínica Bem Viver")
    expect(table).not_to_contain_text("Açougue do Vale")
    expect(page.locator("#renewal-mrr")).to_have_text("R$\xa01.500,00")

    # and switches to 60 days
    page.get_by_role("radio", name="60 dias").check()

    # then both her team's renewals show, with the MRR at stake summed, and the address keeps the window
    expect(table).to_contain_text("Clínica Bem Viver")
    expect(page.locator("#renewal-mrr")).to_have_text("R$\xa04.500,00")
    expect(page).to_have_url(re.compile(r"window=60"))
    shot(page, f"renewals-60-{device}")

    # and the export downloads those two
    with page.expect_download() as download:
        page.get_by_role("link", name="Exportar CSV").click()
    content = download.value.path().read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(content)))
    assert [r[0] for r in rows[1:]] == ["Padaria Pão Dourado", "Clínica Bem Viver"]
    assert download.value.suggested_filename.startswith("renewals-60d-")

    # and My day's panel links to the page
    page.goto(f"{page.base_url}/")
    panel = page.get_by_role("region", name="Renovações deste mês")
    expect(panel.get_by_role("link", name="Renovações à frente")).to_have_attribute("href", "/renewals/?window=30")
    shot(page, f"my-day-renewals-{device}")
