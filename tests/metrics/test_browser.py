"""A leader walks from the metrics page through a churn figure into a customer, on a desktop and a phone."""

import pytest
from playwright.sync_api import expect

from metrics import rollups
from tests.conftest import screenshot
from tests.metrics.conftest import TODAY, at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("device", "viewport"), [("desktop", (1280, 800)), ("phone", (390, 844))])
def test_a_leader_follows_the_quarters_logo_churn_to_the_customer(
    browser, live_server, login_page, story, viewport, device
):
    with at(TODAY):
        rollups.rebuild_all()
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url

    # given the leader on the metrics page, second quarter of 2025
    login_page(page, story.org.leader_a)
    page.goto(f"{page.base_url}/metrics/?period=quarter&month=2025-06")
    churn = page.locator("#metric-logo_churn")
    expect(churn.locator(".value")).to_contain_text("16,7")  # 1 of the 6 customers paying on 1 April
    expect(page.locator("#per-csm tbody tr")).to_have_count(2)
    screenshot(page, f"metrics-{device}-1-quarter")

    # when they open how it is computed, then follow the figure to its customers
    churn.locator("summary").click()
    expect(churn.locator(".how p")).to_be_visible()
    churn.locator(".value a").click()
    expect(page.locator("#drilldown tbody tr")).to_have_count(1)
    expect(page.locator("#drilldown")).to_contain_text("Beta")
    expect(page.locator("#drilldown-total")).to_contain_text("800,00")
    screenshot(page, f"metrics-{device}-2-drilldown")

    # then on into the customer
    page.locator("#drilldown tbody a", has_text="Beta").click()
    expect(page.get_by_role("heading", name="Beta")).to_be_visible()
    screenshot(page, f"metrics-{device}-3-customer")

    # and back on the metrics page, the filters change the figures in place and stay in the URL
    page.go_back()
    page.go_back()
    page.locator("#id_segment").select_option("enterprise")
    page.wait_for_url("**segment=enterprise**")
    expect(page.locator("#metric-mrr .value")).to_contain_text("1.000,00")
    screenshot(page, f"metrics-{device}-4-filtered")
    context.close()
