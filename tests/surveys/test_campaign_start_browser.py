"""A leader starts a campaign in a real browser: first she reads whom it would email and whom it would skip."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from surveys.models import Campaign, CampaignStatus, Delivery, SurveyKind
from tests.conftest import screenshot
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import DeliveryFactory
from tests.surveys.test_results import make_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["desktop", "phone"])
def test_leader_reads_the_preview_then_confirms_a_short_fatigue_rule_and_starts(
    page, login_page, org, settings, viewport
):
    settings.LEME_SURVEY_FATIGUE_DAYS = 90
    User.objects.filter(pk=org.leader_a.pk).update(language="en")
    page.set_viewport_size(viewport)
    name = "phone" if viewport["width"] < 500 else "desktop"
    # given three contacts: one to email, one who opted out, one surveyed three days ago by a CSAT
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory(customer=customer, name="Ana")
    ContactFactory(customer=customer, name="Carla", opted_out_at=timezone.now())
    dani = ContactFactory(customer=customer, name="Dani")
    csat = make_campaign(SurveyKind.CSAT, actor=org.admin, name="CSAT da revisão", scale_max=5)
    DeliveryFactory(campaign=csat, contact=dani, sent_at=timezone.now() - timedelta(days=3))
    campaign = make_campaign(actor=org.admin, team=org.team_a, name="NPS relâmpago", fatigue_days=5)

    # when the leader opens the draft campaign
    login_page(page, org.leader_a)
    page.goto(f"{page.base_url}/surveys/{campaign.pk}/")
    page.get_by_role("link", name="Start the campaign…").click()

    # then she reads, before starting, who would be emailed and who skipped by which rule
    start = page.locator("#start")
    expect(start.get_by_role("heading", name="Before you start")).to_be_visible()
    expect(page.locator("#preview-emailed")).to_have_text("1")
    expect(start).to_contain_text("Skipped: Opted out of surveys")
    expect(start).to_contain_text("Skipped: Surveyed recently")
    expect(start).to_contain_text("the workspace's rule is 90 days")
    screenshot(page, f"campaign-start-{name}-1-preview")
    assert not Delivery.objects.filter(campaign=campaign).exists()

    # when she starts it without confirming the shorter fatigue rule, it stays a draft
    start.get_by_role("button", name="Start the campaign").click()
    expect(page.get_by_text("a leader must confirm it")).to_be_visible()
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT
    screenshot(page, f"campaign-start-{name}-2-refused")

    # when she confirms, it starts
    page.get_by_label("As a leader, I confirm this campaign's shorter fatigue rule").check()
    page.locator("#start").get_by_role("button", name="Start the campaign").click()
    expect(page.get_by_text("NPS relâmpago is active.")).to_be_visible()
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.ACTIVE
    expect(page.locator("#start")).to_have_count(0)
