"""In Chromium, under the Content-Security-Policy the server sends: the main pages load, keep their styling
and their behaviour, and the browser reports no violation at all. Screenshots under /tmp/shots/login/."""

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from surveys.answers import answer_record
from tests.metrics.conftest import story  # noqa: F401 (a fixture: customers with two years of MRR)
from tests.portfolio.factories import ContactFactory
from tests.surveys.factories import DeliveryFactory
from tests.surveys.test_answers import make_delivery
from tests.surveys.test_results import make_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "shots" / "login"

# Collected in the page itself: every securitypolicyviolation event, from the first script on.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI || "inline"} ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watch:
    """What the browser said about the policy: the console's refusals and the pages' violation events."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        page.add_init_script(LISTEN)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message):
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text or message.type == "error":
            self.console.append(f"{message.type}: {text}")

    def visit(self, url: str, shot: str):
        response = self.page.goto(f"{self.page.base_url}{url}")
        assert response is not None, url
        assert response.ok, f"{url}: {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        self.page.wait_for_load_state("networkidle")
        self.check(url)
        self.shoot(shot)

    def check(self, where: str):
        violations = self.page.evaluate("window.__violations || []")
        assert violations == [], f"{where}: {violations}"
        assert self.console == [], f"{where}: {self.console}"
        assert self.errors == [], f"{where}: {self.errors}"

    def shoot(self, name: str):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def styled(page, selector: str, prop: str) -> str:
    return page.locator(selector).first.evaluate(f"(el) => getComputedStyle(el).{prop}")


@pytest.mark.parametrize(("device", "viewport"), [("desktop", (1280, 800)), ("phone", (375, 812))])
def test_the_main_pages_run_under_the_policy_without_a_violation(
    browser,
    live_server,
    login_page,
    story,  # noqa: F811
    device,
    viewport,
):
    org = story.org
    # given NPS answers for Lucas's customers, and a link still to answer
    campaign = make_campaign(actor=org.admin, name="NPS de relacionamento")
    for customer, score in [(story.alfa, 10), (story.beta, 3), (story.delta, 8), (story.epsilon, 9)]:
        answer_record(
            delivery=DeliveryFactory(campaign=campaign, contact=ContactFactory(customer=customer)), score=score
        )
    _, token = make_delivery(campaign, contact=ContactFactory(customer=story.alfa, name="Ana Souza"))
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    watch = Watch(page)

    # the login page, before anyone logs in: styled by leme.css
    watch.visit("/login/", f"{device}-01-login")
    assert styled(page, ".auth-card .card", "backgroundColor") == "rgb(255, 255, 255)"

    # the public answer page: the score buttons lay out in their grid, and answering works
    watch.visit(f"/s/{token}/?score=9", f"{device}-02-survey-answer")
    columns = styled(page, ".scale-options", "gridTemplateColumns").split()
    assert len(columns) == (11 if device == "desktop" else 6)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    watch.check("thanks")
    watch.shoot(f"{device}-03-survey-thanks")

    # the leader's pages
    login_page(page, org.leader_a)
    watch.check("after login")
    watch.visit("/", f"{device}-04-my-day")
    watch.visit("/portfolio/", f"{device}-05-portfolio")
    # the "select all" box still ticks every row (its script is a file now, not an hx-on attribute)
    page.locator("#select-page").check()
    boxes = page.locator("input[name=customers]")
    assert boxes.count() > 0
    assert all(boxes.nth(n).is_checked() for n in range(boxes.count()))
    # a filter swapped in by htmx brings no violation either (htmx injects no style of its own)
    page.locator("#id_q").fill("Alfa")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    watch.check("portfolio filtered")

    watch.visit(f"/customers/{story.alfa.pk}/", f"{device}-06-customer")
    bars = page.locator(".sparkbars span")
    assert bars.count() == 12
    heights = {round(float(bars.nth(n).evaluate("(el) => el.getBoundingClientRect().height"))) for n in range(12)}
    assert max(heights) > 40  # the tallest month fills the chart (60 px) rather than collapsing to nothing

    watch.visit("/surveys/", f"{device}-07-surveys")
    watch.visit(f"/surveys/{campaign.pk}/", f"{device}-08-survey-results")
    marker_left = float(page.locator(".gauge-marker").evaluate("(el) => parseFloat(getComputedStyle(el).left)"))
    assert marker_left > 0  # NPS 25 sits right of the scale's start
    widths = page.locator(".dist .track span:not(.none)").evaluate_all(
        "(els) => els.map((el) => el.getBoundingClientRect().width)"
    )
    assert len(widths) == 4
    assert max(widths) > min(widths) > 0

    watch.visit("/metrics/?period=quarter&month=2025-06", f"{device}-09-metrics")
    context.close()


def test_the_api_documentation_runs_under_the_policy(browser, live_server, login_page, org):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    watch = Watch(page)
    login_page(page, org.admin)

    watch.visit("/api/v1/docs/", "desktop-10-api-docs")

    expect(page.locator(".swagger-ui .information-container")).to_be_visible()
    expect(page.locator(".opblock-tag").first).to_be_visible()
    watch.check("api docs")
    context.close()
