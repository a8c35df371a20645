"""In a real browser: an admin gives a campaign to a team (or leaves it company-wide), a leader's campaign form
offers only their own team, and the campaign page says whose campaign it is. Desktop and phone."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from surveys.models import Campaign
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [{"width": 1280, "height": 800}, {"width": 375, "height": 812}]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["desktop", "phone"])
def test_an_admin_gives_a_campaign_to_a_team_and_a_leader_picks_only_theirs(
    page, login_page, org, viewport, browser, live_server
):
    User.objects.filter(pk__in=[org.admin.pk, org.leader_a.pk]).update(language="en")
    page.set_viewport_size(viewport)
    name = "phone" if viewport["width"] < 500 else "desktop"

    # when the admin creates a campaign for team SMB
    login_page(page, org.admin)
    page.goto(f"{page.base_url}/surveys/new/")
    team = page.get_by_label("Team")
    expect(team.locator("option")).to_have_text(["Company-wide (every team)", "Time Enterprise", "Time SMB"])
    page.get_by_label("Name").fill("NPS do time SMB")
    team.select_option(label="Time SMB")
    screenshot(page, f"campaign-team-{name}-1-admin-form")
    page.get_by_role("button", name="Create").click()

    # then the campaign page says whose campaign it is
    expect(page.get_by_text("Team Time SMB")).to_be_visible()
    assert Campaign.objects.get().team == org.team_b
    screenshot(page, f"campaign-team-{name}-2-campaign")

    # and a leader's form offers their own team only
    context = browser.new_context(viewport=viewport, locale="en-US")
    leader = context.new_page()
    leader.base_url = live_server.url
    login_page(leader, org.leader_a)
    leader.goto(f"{leader.base_url}/surveys/new/")
    expect(leader.get_by_label("Team").locator("option")).to_have_text(["Time Enterprise"])
    screenshot(leader, f"campaign-team-{name}-3-leader-form")
    context.close()
