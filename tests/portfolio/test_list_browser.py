"""The portfolio list in a real browser: bulk reassignment, the sort across filters, the browser's back button,
and a form's errors on the customer page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from portfolio.models import Customer
from tests.conftest import screenshot
from tests.portfolio.factories import CustomerFactory, subscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def speak_english(*users):
    User.objects.filter(pk__in=[u.pk for u in users]).update(language="en")


def book_of(owner, *names, service_model="high"):
    """Customers of ``owner``, the first with the smallest MRR."""
    customers = []
    for n, name in enumerate(names, start=1):
        customer = CustomerFactory(name=name, owner=owner, service_model=service_model)
        subscribe(customer, amount_cents=100_000 * n)
        customers.append(customer)
    return customers


def names_in_order(page) -> list[str]:
    return page.locator("#results tbody td strong").all_inner_texts()


def bulk_reassign(page, org, shots: str):
    # given a leader on the portfolio, with three customers of Lucas
    page.goto(f"{page.base_url}/portfolio/")
    boxes = page.locator("input[name=customers]")
    expect(boxes).to_have_count(3)

    # when she ticks two customers, then chooses the CSM who takes them
    page.get_by_label("Select Alfa Ltda").check()
    page.get_by_label("Select Bravo Ltda").check()
    page.get_by_label("Move the selected customers to").select_option(str(org.csm_a2.pk))
    page.wait_for_load_state("networkidle")

    # then the list stays as it was: the ticks and the target are kept
    expect(page.get_by_label("Select Alfa Ltda")).to_be_checked()
    expect(page.get_by_label("Select Bravo Ltda")).to_be_checked()
    expect(page.get_by_label("Move the selected customers to")).to_have_value(str(org.csm_a2.pk))

    # when she ticks every customer on the page at once
    page.get_by_label("Select every customer on this page").check()
    for box in boxes.all():
        expect(box).to_be_checked()
    screenshot(page, f"{shots}-selected")

    # and reassigns, first changing her mind at the confirmation
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Reassign").click()
    assert asked == ["Move 3 customers to Beatriz Santos?"]
    assert not Customer.objects.filter(owner=org.csm_a2).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reassign").click()

    # then the three move, and the page says so
    expect(page.get_by_text("3 customers moved to Beatriz Santos.")).to_be_visible()
    assert Customer.objects.filter(owner=org.csm_a2).count() == 3


def test_bulk_reassignment_keeps_the_selection_and_confirms_on_a_desktop(page, login_page, org):
    speak_english(org.leader_a)
    book_of(org.csm_a, "Alfa Ltda", "Bravo Ltda", "Charlie Ltda")
    login_page(page, org.leader_a)

    bulk_reassign(page, org, "portfolio-bulk")

    screenshot(page, "portfolio-bulk-reassigned")


def test_bulk_reassignment_keeps_the_selection_and_confirms_on_a_phone(browser, live_server, login_page, org):
    speak_english(org.leader_a)
    book_of(org.csm_a, "Alfa Ltda", "Bravo Ltda", "Charlie Ltda")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    login_page(page, org.leader_a)

    bulk_reassign(page, org, "portfolio-bulk-phone")

    screenshot(page, "portfolio-bulk-reassigned-phone")
    context.close()


def test_the_sort_survives_a_filter_change(page, login_page, org):
    speak_english(org.leader_a)
    book_of(org.csm_a, "Alfa Ltda", "Bravo Ltda", "Charlie Ltda")
    book_of(org.csm_a, "Delta Ltda", service_model="low")
    login_page(page, org.leader_a)
    page.goto(f"{page.base_url}/portfolio/")

    # given the list sorted by MRR, largest first
    page.get_by_role("link", name="MRR").click()
    page.wait_for_url("**sort=mrr*")
    page.get_by_role("link", name="MRR").click()
    page.wait_for_url("**sort=-mrr*")
    expect(page.locator("#results tbody tr").first).to_contain_text("Charlie Ltda")

    # when the service model filter changes
    page.get_by_label("Service model").select_option("high")
    page.wait_for_url(re.compile(r"service_model=high"))

    # then the list is filtered and still sorted by MRR, largest first
    assert "sort=-mrr" in page.url
    expect(page.get_by_role("link", name="Delta Ltda")).to_have_count(0)
    assert names_in_order(page) == ["Charlie Ltda", "Bravo Ltda", "Alfa Ltda"]
    screenshot(page, "portfolio-sorted-and-filtered")


def test_going_back_after_the_history_cache_is_gone_shows_the_whole_page(page, login_page, org):
    speak_english(org.leader_a)
    book_of(org.csm_a, "Alfa Ltda", "Bravo Ltda")
    book_of(org.csm_a, "Delta Ltda", service_model="low")
    login_page(page, org.leader_a)
    page.goto(f"{page.base_url}/portfolio/")

    # given two filter changes, each a step in the browser's history
    page.get_by_label("Service model").select_option("high")
    page.wait_for_url(re.compile(r"service_model=high"))
    page.get_by_label("Service model").select_option("low")
    page.wait_for_url(re.compile(r"service_model=low"))
    expect(page.get_by_role("link", name="Alfa Ltda")).to_have_count(0)

    # when the copies htmx keeps of earlier steps are gone (evicted, or a new tab) and the person goes back
    page.evaluate("sessionStorage.removeItem('htmx-history-cache')")
    with page.expect_request(lambda r: r.headers.get("hx-history-restore-request") == "true"):
        page.go_back()
    page.wait_for_load_state("networkidle")

    # then the whole page is back: navigation, filters and the earlier list
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator("#portfolio-filters[role=search]")).to_be_visible()  # beside the top bar's search
    expect(page.get_by_role("link", name="Alfa Ltda")).to_be_visible()
    expect(page.get_by_role("link", name="Delta Ltda")).to_have_count(0)
    expect(page.locator("#results")).to_have_count(1)
    screenshot(page, "portfolio-history-restored")


def test_an_empty_note_on_the_timeline_shows_its_error(page, login_page, org):
    speak_english(org.csm_a)
    (customer,) = book_of(org.csm_a, "Alfa Ltda")
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/customers/{customer.pk}/")

    # when the CSM logs a note without a summary
    timeline = page.locator("#timeline-card")
    timeline.get_by_role("button", name="Log it").click()

    # then the form says what is missing, and nothing is logged
    expect(timeline.get_by_text("This field is required.")).to_be_visible()
    screenshot(page, "timeline-empty-note")
