"""An ISM ends an onboarding that went badly: a milestone dated in the past, then a handoff that warns."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from portfolio.models import Customer, Stage
from tests.conftest import screenshot
from tests.portfolio.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["desktop", "phone"])
def test_the_handoff_with_nothing_reached_warns_and_goes_through_once_confirmed(page, login_page, org, viewport):
    User.objects.filter(pk=org.ism_a.pk).update(language="en")
    page.set_viewport_size(viewport)
    name = "phone" if viewport["width"] < 500 else "desktop"
    today = timezone.localdate()
    customer = CustomerFactory(
        name="Ótica Visão Clara",
        service_model="low",
        owner=org.csm_a,
        implementation_manager=org.ism_a,
        start_date=today - timedelta(days=45),
    )

    # given an ISM on a customer whose first value is overdue: a milestone's day can be a past one, not a future one
    login_page(page, org.ism_a)
    page.goto(f"{page.base_url}/customers/{customer.pk}/")
    reached_on = page.get_by_label("Reached on").first
    expect(reached_on).to_have_value(today.isoformat())
    expect(reached_on).to_have_attribute("max", today.isoformat())
    expect(reached_on).to_have_attribute("min", customer.start_date.isoformat())
    reached_on.fill((today - timedelta(days=3)).isoformat())
    screenshot(page, f"handoff-{name}-1-milestone-date")

    # when she opens the handoff, she is warned before she types anything
    page.get_by_role("link", name="Record the handoff").click()
    warning = page.locator("#handoff-warning")
    expect(warning).to_contain_text("First value and first success were not reached")
    page.get_by_label("Ongoing CSM").select_option(str(org.csm_a.pk))
    page.get_by_label("How it happened").select_option("email")
    page.get_by_label("Results achieved in onboarding").fill("Cadastro feito; a equipe não usou o produto ainda")
    page.get_by_label("The customer's goals ahead").fill("Primeira campanha no ar em 30 dias")
    page.get_by_label("Key stakeholders").fill("Rita (gerente, decisora)")
    page.get_by_role("button", name="Complete the handoff").click()

    # then without the tick the handoff is refused, keeping what was typed
    expect(page.get_by_text("Confirm that you hand the customer off anyway")).to_be_visible()
    expect(page.get_by_label("Results achieved in onboarding")).to_have_value(
        "Cadastro feito; a equipe não usou o produto ainda"
    )
    screenshot(page, f"handoff-{name}-2-warning")
    assert Customer.objects.get(pk=customer.pk).stage == Stage.ONBOARDING

    # when she confirms, the customer is ongoing
    page.get_by_label("I hand the customer off with first value and first success unreached").check()
    page.get_by_role("button", name="Complete the handoff").click()
    expect(page.get_by_text("is now ongoing")).to_be_visible()
    assert Customer.objects.get(pk=customer.pk).stage == Stage.ONGOING

    # and the handoff form no longer opens for it
    page.goto(f"{page.base_url}/customers/{customer.pk}/handoff/")
    expect(page.get_by_text("no longer in onboarding")).to_be_visible()
    screenshot(page, f"handoff-{name}-3-refused-after")


def test_the_board_brings_the_next_customers_in_place_of_show_more(page, login_page, org, monkeypatch):
    from portfolio.selectors import boards

    monkeypatch.setattr(boards, "ONBOARDING_PAGE", 2)
    User.objects.filter(pk=org.leader_a.pk).update(language="en")
    today = timezone.localdate()
    for n, days_ago in enumerate([40, 30, 20, 10, 5]):
        CustomerFactory(name=f"Onboarding {n}", owner=org.csm_a, start_date=today - timedelta(days=days_ago))

    # given the leader on the board: the two earliest starts, and a button for more
    login_page(page, org.leader_a)
    page.goto(f"{page.base_url}/onboarding/")
    rows = page.locator("#cust-h").locator("xpath=../..").locator("tbody tr")
    expect(rows.filter(has_text="Onboarding")).to_have_count(2)

    # when she asks for more twice, the next ones join the same table, the earliest first, and the button goes
    page.get_by_role("link", name="Show more customers").click()
    expect(rows.filter(has_text="Onboarding")).to_have_count(4)
    page.get_by_role("link", name="Show more customers").click()
    expect(rows.filter(has_text="Onboarding")).to_have_count(5)
    expect(page.get_by_role("link", name="Show more customers")).to_have_count(0)
    assert rows.filter(has_text="Onboarding").all_inner_texts()[-1].startswith("Onboarding 4")
    assert page.url == f"{page.base_url}/onboarding/"  # in place: the board itself, the pace above it
    screenshot(page, "onboarding-board-show-more")
