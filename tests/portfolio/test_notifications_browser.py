"""The bell in a real browser, on a desktop and a phone: the count in the top bar, the dropdown that opens on a
click and marks the notices read, Escape to close it, and a notice that leads to its customer."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portfolio import services
from tests.portfolio.test_services import ongoing_customer, open_churn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots_digest")  # noqa: S108 - where the screenshots are looked at


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_bell_counts_opens_marks_read_and_leads_to_the_customer(page, login_page, org, device):
    # given a customer Juliana (ISM) handed off to Lucas, whose churn request a leader opened, and a customer the
    # leader moved to him
    churning = ongoing_customer(org)
    open_churn(churning, org.leader_a)
    moved = ongoing_customer(org, csm=org.csm_a2)
    services.customers_reassign(customers=[moved], to_owner=org.csm_a, actor=org.leader_a)
    if device == "phone":
        page.set_viewport_size({"width": 390, "height": 844})
    login_page(page, org.csm_a)

    # the bell says 3
    bell = page.locator("#bell-button")
    expect(bell).to_contain_text("Notificações: 3 não lidas")
    expect(page.locator(".bell-count")).to_have_text("3")
    shot(page, f"bell-count-{device}")

    # when he opens it
    bell.click()

    # then the three notices drop down, marked new, and the count is gone
    panel = page.locator("#bell-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".notice.unread")).to_have_count(3)
    expect(panel).to_contain_text("Passagem de bastão para você, de Juliana Pereira")
    expect(panel).to_contain_text(re.compile(r"Pedido de churn aberto por Mariana Costa: R\$"))
    expect(panel).to_contain_text("Passado para você por Mariana Costa")
    expect(bell).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".bell-count")).to_have_count(0)
    shot(page, f"bell-open-{device}")

    # Escape closes it; a second look shows them read
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    bell.click()
    expect(panel.locator(".notice")).to_have_count(3)
    expect(panel.locator(".notice.unread")).to_have_count(0)

    # and a notice leads to its customer
    panel.get_by_role("link", name=re.compile(f"^{re.escape(moved.name)}")).click()
    expect(page).to_have_url(re.compile(rf"/customers/{moved.pk}/$"))
    expect(page.locator(".bell-count")).to_have_count(0)

    # and "see all" is a page of its own
    page.goto(f"{page.base_url}/notifications/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notificações")
    expect(page.get_by_role("main").locator(".notice")).to_have_count(3)
    shot(page, f"notifications-page-{device}")
