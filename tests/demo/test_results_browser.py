"""A leader reads survey results in a real browser, on the demo's year of answers; screenshots to look at."""

import importlib

import pytest
from django.apps import apps
from playwright.sync_api import expect

from accounts.models import User
from demo.people import DEMO_PASSWORD, demo_user, seed_people
from demo.portfolio import seed_portfolio
from demo.surveys import NPS_NAME, seed_surveys
from surveys.forms import default_questions
from surveys.models import SurveyKind
from tests.conftest import ARTIFACTS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    # A transactional test before this one flushed the database, data migrations included: put the default
    # churn taxonomy back (idempotent) so that the demo portfolio can be built.
    importlib.import_module("portfolio.migrations.0002_default_taxonomy").install(apps, None)
    seed_people()
    seed_portfolio(customers=60)
    seed_surveys()
    User.objects.filter(email__endswith="@demo.leme.app").update(language="en")


def test_leader_reads_campaigns_results_and_comments(page, login_page, demo):
    leader = demo_user("mariana")
    login_page(page, leader, password=DEMO_PASSWORD)

    # the campaigns, with their counts and scores
    page.goto(f"{page.base_url}/surveys/")
    expect(page.get_by_role("link", name=NPS_NAME)).to_be_visible()
    expect(page.get_by_role("link", name="eNPS trimestral — time de CS")).to_be_visible()
    screenshot(page, "surveys-1-campaigns")

    # one campaign's results: score and zone, distribution, trend, slices, comments
    page.get_by_role("link", name=NPS_NAME).click()
    expect(page.get_by_text("Net Promoter Score")).to_be_visible()
    expect(page.get_by_role("heading", name="Trend by month")).to_be_visible()
    expect(page.get_by_role("heading", name="By CSM")).to_be_visible()
    screenshot(page, "surveys-2-nps-results")
    page.locator(".results-top").screenshot(path=str(ARTIFACTS / "surveys-2a-score.png"))
    page.locator("section[aria-labelledby=trend-h]").screenshot(path=str(ARTIFACTS / "surveys-2b-trend.png"))
    page.locator(".slices").screenshot(path=str(ARTIFACTS / "surveys-2c-slices.png"))
    page.get_by_text("Who was skipped").click()
    expect(page.get_by_text("Surveyed recently").first).to_be_visible()
    page.locator("section[aria-labelledby=sending-h]").screenshot(path=str(ARTIFACTS / "surveys-2d-sending.png"))

    # the comments narrow to detractors without a page load
    with page.expect_response(lambda r: "partial=comments" in r.url):
        page.get_by_label("Answers").select_option("detractor")
    pills = page.locator("#comments .score-pill")
    assert pills.count() > 0
    assert all(int(text) <= 6 for text in pills.all_inner_texts())
    assert page.get_by_role("heading", name="Trend by month").is_visible()  # the rest of the page stayed
    page.locator("#comments").screenshot(path=str(ARTIFACTS / "surveys-3-detractor-comments.png"))

    # every CSAT campaign together
    page.goto(f"{page.base_url}/surveys/results/csat/")
    expect(page.get_by_text("CSAT · satisfied customers")).to_be_visible()
    screenshot(page, "surveys-4-csat-overview")
    page.goto(f"{page.base_url}/surveys/results/ces/")
    expect(page.get_by_text("CES · average effort")).to_be_visible()
    page.locator(".results-top").screenshot(path=str(ARTIFACTS / "surveys-4b-ces-score.png"))
    page.goto(f"{page.base_url}/surveys/results/chi/")
    page.locator(".results-top").screenshot(path=str(ARTIFACTS / "surveys-4c-chi-score.png"))

    # eNPS: aggregated and anonymous
    page.goto(f"{page.base_url}/surveys/results/enps/")
    expect(page.get_by_text("Employee NPS (anonymous)")).to_be_visible()
    html = page.content()
    for key in ("lucas", "beatriz", "rafael"):
        person = demo_user(key)
        assert person.full_name not in html
        assert person.email not in html
    screenshot(page, "surveys-5-enps-overview")


def test_leader_creates_a_campaign(page, login_page, demo):
    login_page(page, demo_user("mariana"), password=DEMO_PASSWORD)
    page.goto(f"{page.base_url}/surveys/new/")

    # the standard questions follow the kind; the schedule shows only the chosen mode's fields
    with page.expect_response(lambda r: "kind=csat" in r.url):
        page.get_by_label("Survey", exact=True).select_option("csat")
    # the swap lands just after the response: wait for it rather than read the field at once
    expect(page.get_by_label("Question in English")).to_have_value(default_questions(SurveyKind.CSAT)[1])
    expect(page.get_by_label("CSAT scale")).to_be_visible()
    page.get_by_label("Name").fill("CSAT após revisão de sucesso")
    page.get_by_label("When an event happens").check()
    expect(page.get_by_label("Which event")).to_be_visible()
    expect(page.get_by_label("Date and time")).to_be_hidden()
    page.get_by_label("Enterprise", exact=True).first.check()
    screenshot(page, "surveys-6-new-campaign")

    # a missing event is refused, keeping what was typed
    page.get_by_role("button", name="Create the campaign").click()
    expect(page.get_by_text("Say which event sends the survey.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("CSAT após revisão de sucesso")
    page.get_by_label("Which event").select_option("review")
    page.get_by_role("button", name="Create the campaign").click()
    expect(page.get_by_text("Campaign created as a draft")).to_be_visible()
    page.get_by_role("button", name="Start the campaign").click()
    expect(page.get_by_text("is active")).to_be_visible()
    screenshot(page, "surveys-7-campaign-started")


def test_a_leader_with_many_customers_reads_tallied_results_and_the_employee_list(page, login_page, demo, settings):
    # given a leader who sees enough customers to read the tallies (built by the demo seed)
    settings.LEME_SURVEY_TALLIES_FROM = 1
    login_page(page, demo_user("mariana"), password=DEMO_PASSWORD)

    # the NPS results say when they were counted, and look the same as counted live
    page.goto(f"{page.base_url}/surveys/results/nps/")
    expect(page.get_by_text("Counted at")).to_be_visible()
    expect(page.get_by_role("heading", name="By CSM")).to_be_visible()
    screenshot(page, "surveys-8-tallied-nps")

    # employees imported with their team are listed with it
    team = demo_user("mariana").team.name
    page.goto(f"{page.base_url}/surveys/employees/")
    csv = f"email,name,team\nana@empresa.com.br,Ana Lima,{team.upper()}\nbruno@empresa.com.br,Bruno Reis,\n"
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Import all rows").click()
    row = page.get_by_role("row", name="ana@empresa.com.br")
    expect(row).to_contain_text(team)
    screenshot(page, "surveys-9-employees")
