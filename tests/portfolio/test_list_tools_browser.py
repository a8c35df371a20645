"""The portfolio list's tools in a real browser, as a leader uses them: filter, select all the customers
matching and reassign them, show 50 rows, save the view and open it again; on a desktop and on a phone."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from portfolio.models import Customer, SavedView
from tests.conftest import ARTIFACTS, screenshot
from tests.portfolio.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screen(page, locator, name: str) -> None:
    """What the person sees around ``locator`` (a phone's whole page is too long to look at)."""
    locator.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def walk_the_list_tools(page, org, shots: str) -> None:
    # given a leader on the portfolio: 28 high-touch customers of Lucas (two pages) and 2 low-touch
    page.goto(f"{page.base_url}/portfolio/")

    # when she filters the high-touch ones
    page.get_by_label("Service model").select_option("high")
    page.wait_for_url(re.compile(r"service_model=high"))

    # and ticks the page, then every customer matching
    page.get_by_label("Select every customer on this page").check()
    matching = page.get_by_label("Select all 28 customers matching")
    matching.check()
    expect(page.locator("input[name=customers]:checked")).to_have_count(25)
    screenshot(page, f"{shots}-all-matching")
    screen(page, page.locator(".bulkbar"), f"{shots}-all-matching-screen")

    # and reassigns them to Beatriz, confirming the count
    page.get_by_label("Move the selected customers to").select_option(str(org.csm_a2.pk))
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Reassign").click()

    # then the 28 high-touch customers move, and only they
    expect(page.get_by_text("28 customers moved to Beatriz Santos.")).to_be_visible()
    assert asked == ["Move 28 customers to Beatriz Santos?"]
    assert Customer.objects.filter(owner=org.csm_a2).count() == 28
    assert Customer.objects.filter(owner=org.csm_a, service_model="low").count() == 2

    # when she shows 50 rows a page
    page.get_by_label("Rows per page").select_option("50")
    page.wait_for_url(re.compile(r"per_page=50"))
    expect(page.locator("#results tbody tr")).to_have_count(28)
    expect(page.get_by_label("Select all 28 customers matching")).to_have_count(0)  # all on the page already

    # and saves this as a view
    page.get_by_text("Save or manage views").click()
    page.get_by_label("Save these filters as").fill("Alto contato")
    screen(page, page.locator("#saved-views"), f"{shots}-saving-screen")
    page.get_by_role("button", name="Save view").click()
    chip = page.get_by_role("link", name="Alto contato")
    expect(chip).to_have_attribute("aria-current", "page")
    screenshot(page, f"{shots}-view-saved")
    assert list(SavedView.objects.values_list("query", flat=True)) == ["service_model=high&per_page=50"]

    # then, from every customer, the view opens the same list again, filters and rows per page included
    page.get_by_role("link", name="All customers").click()
    expect(page.locator("#results tbody tr")).to_have_count(25)
    page.get_by_role("link", name="Alto contato").click()
    page.wait_for_url(re.compile(r"service_model=high&per_page=50"))
    expect(page.get_by_label("Service model")).to_have_value("high")
    expect(page.get_by_label("Rows per page")).to_have_value("50")
    expect(page.locator("#results tbody tr")).to_have_count(28)
    screenshot(page, f"{shots}-view-opened")
    screen(page, page.locator(".pagination"), f"{shots}-rows-per-page-screen")


@pytest.fixture
def crowd(org):
    User.objects.filter(pk=org.leader_a.pk).update(language="en")
    CustomerFactory.create_batch(28, owner=org.csm_a, service_model="high")
    CustomerFactory.create_batch(2, owner=org.csm_a, service_model="low")


def test_list_tools_on_a_desktop(page, login_page, org, crowd):
    login_page(page, org.leader_a)

    walk_the_list_tools(page, org, "portfolio-tools")


def test_list_tools_on_a_phone(browser, live_server, login_page, org, crowd):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    login_page(page, org.leader_a)

    walk_the_list_tools(page, org, "portfolio-tools-phone")

    context.close()
