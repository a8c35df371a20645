"""A leader walks from the metrics page through a churn figure into a customer, on a desktop and a phone."""

import re
from pathlib import Path

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
    page.locator("#csm-comparison").scroll_into_view_if_needed()  # the panel loads when it comes into view
    expect(page.locator("#per-csm tbody tr")).to_have_count(2)
    page.locator("#metric-logo_churn").scroll_into_view_if_needed()
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


SHOTS = Path("/tmp/shots/metrics")  # noqa: S108 - where the screenshots are looked at


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def canvas_has_ink(page, selector: str) -> bool:
    """Whether Chart.js drew anything: some pixel of the canvas is not transparent."""
    return page.eval_on_selector(
        selector,
        """(canvas) => {
            const { width, height } = canvas;
            if (!width || !height) return false;
            const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
            return false;
        }""",
    )


def reveal(page, anchor: str) -> None:
    """Scroll a panel loaded on sight into view (in one step in the page: the placeholder is replaced while it
    comes into view, so a scroll driven from here could find it gone) and wait for its content."""
    page.evaluate("(id) => document.getElementById(id).scrollIntoView({block: 'center'})", anchor)
    page.wait_for_selector(f"#{anchor}:not(.lazy-panel)")


@pytest.mark.parametrize(("device", "viewport"), [("desktop", (1280, 800)), ("phone", (375, 812))])
def test_a_leader_reads_the_charts_opens_a_cohort_cell_and_enters_a_months_spend(
    browser, live_server, login_page, story, viewport, device
):
    with at(TODAY):
        rollups.rebuild_all()
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # given the leader on the metrics page, April 2025
    login_page(page, story.org.leader_a)
    page.goto(f"{page.base_url}/metrics/?period=month&month=2025-04")

    # then both charts are drawn
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 2")
    assert canvas_has_ink(page, "#chart-mrr")
    assert canvas_has_ink(page, "#chart-retention")
    page.locator("#chart-mrr").scroll_into_view_if_needed()
    shot(page, f"{device}-1-page")

    # when they click April's churn bar (below zero), they land on the customers behind it
    point = page.evaluate(
        """() => {
            const chart = window.Chart.getChart("chart-mrr");
            const churn = chart.data.datasets.findIndex((d) => d.label === "Churn");
            const bar = chart.getDatasetMeta(churn).data[11];
            const box = chart.canvas.getBoundingClientRect();
            return { x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2 };
        }"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/metrics/customers/**figure=churn**")
    expect(page.locator("#drilldown")).to_contain_text("Beta")
    expect(page.locator("#drilldown-total")).to_contain_text("800,00")
    shot(page, f"{device}-2-bar-drilldown")
    page.go_back()

    # when they open January's cohort in April (month 3): the four January customers, R$ 3.200 in all
    reveal(page, "cohorts")  # the panel loads when it comes into view
    cohorts = page.locator("#cohort-logo_retention")
    cohorts.scroll_into_view_if_needed()
    expect(cohorts.locator("tbody tr").first.locator("td").nth(4)).to_contain_text("100")
    shot(page, f"{device}-3-cohorts")
    page.locator("#cohorts").screenshot(path=str(SHOTS / f"{device}-3-cohorts-card.png"))
    cohorts.locator("tbody tr").first.locator("td").nth(4).locator("a").click()
    page.wait_for_url("**cohort=2025-01**")
    expect(page.locator("#drilldown tbody tr")).to_have_count(4)
    expect(page.locator("#drilldown-total")).to_contain_text("3.200,00")
    expect(page.locator("h1")).to_contain_text("Safra de Jan 2025")
    shot(page, f"{device}-4-cohort-customers")
    page.go_back()

    # when they save April's spend with no amount, the error shows; then with one, CAC appears
    reveal(page, "unit-economics")
    card = page.locator("#unit-economics")
    expect(card.locator("#unit-cac .value")).to_contain_text("—")
    card.get_by_role("button", name="Salvar o investimento").click()
    expect(page.locator("#id_spend-amount_error")).to_contain_text("Este campo é obrigatório")
    shot(page, f"{device}-5-spend-error")
    page.locator("#id_spend-amount").fill("6.000,00")
    page.get_by_role("button", name="Salvar o investimento").click()
    expect(page.locator("#unit-cac .value")).to_contain_text("3.000,00")  # Delta and Épsilon were April's new
    expect(page.locator("#unit-economics .message.success")).to_be_visible()
    page.locator("#unit-economics").scroll_into_view_if_needed()
    shot(page, f"{device}-6-cac")
    page.locator("#unit-economics").screenshot(path=str(SHOTS / f"{device}-6-cac-card.png"))
    assert errors == []
    context.close()


PANELS = ["churn-reasons", "unit-economics", "cohorts", "csm-comparison", "save-rate", "cs-operations"]


def scroll_through(page) -> None:
    """Down the page a screen at a time, as a reader does, then each panel into view (a phone's long page)."""
    height = page.evaluate("() => document.body.scrollHeight")
    for _top in range(0, height, 400):
        page.mouse.wheel(0, 400)
    for anchor in PANELS:
        page.evaluate("(id) => document.getElementById(id).scrollIntoView()", anchor)
        expect(page.locator(f"#{anchor}:not(.lazy-panel)")).to_have_count(1)  # swapped in, then the next


@pytest.mark.parametrize(("device", "viewport"), [("desktop", (1280, 800)), ("phone", (390, 844))])
def test_the_panels_load_as_the_leader_scrolls_and_follow_a_change_of_period(
    browser, live_server, login_page, story, viewport, device
):
    with at(TODAY):
        rollups.rebuild_all()
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    errors, panels_asked = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda request: "/metrics/panels/" in request.url and panels_asked.append(request.url))

    # given the leader on the metrics page, June 2025: the headline and the charts, the panels not yet asked for
    login_page(page, story.org.leader_a)
    page.goto(f"{page.base_url}/metrics/?period=month&month=2025-06")
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 2")
    assert canvas_has_ink(page, "#chart-mrr")
    expect(page.locator("#cs-operations.lazy-panel")).to_have_count(1)
    shot(page, f"{device}-panels-1-top")

    # when they scroll down the page
    scroll_through(page)

    # then every panel came, each once, for June
    expect(page.locator(".lazy-panel")).to_have_count(0)
    expect(page.locator("#per-csm tbody tr")).to_have_count(2)
    expect(page.locator("#cohort-logo_retention")).to_be_visible()
    expect(page.locator("#reasons, #churn-reasons .empty")).to_have_count(1)
    expect(page.locator("#unit-cac")).to_be_visible()
    expect(page.locator("#save-requests_opened")).to_have_attribute("href", re.compile(r"period=month&month=2025-06"))
    expect(page.locator("#ops-csms, #cs-operations .empty")).to_have_count(1)
    assert len(panels_asked) == len(PANELS)
    assert all("month=2025-06" in url for url in panels_asked)
    shot(page, f"{device}-panels-2-scrolled")

    # when they change the period to the year
    page.locator("#id_period").scroll_into_view_if_needed()
    page.locator("#id_period").select_option("year")
    page.wait_for_url("**period=year**")

    # then the charts are drawn again, and the panels come again for the year as they scroll
    expect(page.locator("#results h2")).to_contain_text("2025")
    page.wait_for_function(
        "() => Object.keys(window.Chart.instances).length === 2 && window.Chart.getChart('chart-mrr')"
        " && window.Chart.getChart('chart-mrr').canvas.isConnected"
    )
    assert canvas_has_ink(page, "#chart-mrr")
    assert canvas_has_ink(page, "#chart-retention")
    shot(page, f"{device}-panels-3-year-top")
    scroll_through(page)
    expect(page.locator(".lazy-panel")).to_have_count(0)
    expect(page.locator("#save-requests_opened")).to_have_attribute("href", re.compile(r"period=year&month=2025-12"))
    assert len(panels_asked) == 2 * len(PANELS)
    assert all("period=year" in url for url in panels_asked[len(PANELS) :])
    shot(page, f"{device}-panels-4-year-scrolled")
    assert errors == []
    context.close()
