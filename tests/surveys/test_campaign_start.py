"""Before a campaign starts: whom it would email and whom it would skip, by rule, and a leader's word when its
fatigue rule is shorter than the workspace's."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from surveys import services
from surveys.models import CampaignMode, CampaignStatus, Delivery, SkipReason, SurveyKind
from surveys.planning import campaign_plan, plan_preview
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import DeliveryFactory
from tests.surveys.test_results import make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts(org):
    """Four contacts of one customer: one to email, one without email, one who opted out, one surveyed a
    week ago by another campaign."""
    customer = CustomerFactory(owner=org.csm_a)
    recently = ContactFactory(customer=customer, name="Dani")
    DeliveryFactory(
        campaign=make_campaign(SurveyKind.CSAT, actor=org.admin, name="CSAT da revisão", scale_max=5),
        contact=recently,
        sent_at=timezone.now() - timedelta(days=7),
    )
    return {
        "ana": ContactFactory(customer=customer, name="Ana"),
        "bruno": ContactFactory(customer=customer, name="Bruno", email=""),
        "carla": ContactFactory(customer=customer, name="Carla", opted_out_at=timezone.now()),
        "dani": recently,
    }


def test_the_preview_counts_what_planning_writes_and_writes_nothing(org, contacts):
    campaign = make_campaign(
        actor=org.admin, team=org.team_a, name="NPS semestral", mode=CampaignMode.AT, send_at=timezone.now()
    )
    before = Delivery.objects.count()

    preview = plan_preview(campaign)

    assert Delivery.objects.count() == before
    assert preview.pending == 1
    assert preview.skipped == {SkipReason.NO_EMAIL: 1, SkipReason.OPTED_OUT: 1, SkipReason.FATIGUE: 1}
    services.campaign_activate(campaign=campaign, actor=org.leader_a)
    planned = campaign_plan(campaign_id=campaign.pk)
    assert (planned.pending, planned.skipped) == (preview.pending, preview.skipped)


def test_a_transactional_campaign_has_no_preview(org, contacts):
    campaign = make_campaign(
        SurveyKind.CSAT, actor=org.admin, mode=CampaignMode.TRANSACTIONAL, trigger="review", scale_max=5
    )
    assert plan_preview(campaign) is None


def test_the_draft_page_shows_the_preview_before_the_start_button(org, client_for, contacts):
    campaign = make_campaign(actor=org.admin, team=org.team_a, name="NPS semestral")
    page = client_for(org.leader_a).get(f"/surveys/{campaign.pk}/")
    text = page.text
    assert "Antes de iniciar" in text
    assert '<div class="value" id="preview-emailed">1</div>' in text
    assert "Ignorados: Pesquisado recentemente" in text
    assert text.index("Antes de iniciar") < text.index("Iniciar a campanha</button>")
    assert not Delivery.objects.filter(campaign=campaign).exists()


def test_nobody_to_email_is_said_before_starting(org, client_for, contacts):
    contacts["ana"].delete()
    campaign = make_campaign(actor=org.admin, team=org.team_a, name="NPS semestral")
    page = client_for(org.leader_a).get(f"/surveys/{campaign.pk}/")
    assert "Ninguém receberia email" in page.text


def test_a_fatigue_rule_below_the_workspaces_needs_a_leaders_confirmation(org, settings):
    settings.LEME_SURVEY_FATIGUE_DAYS = 90
    campaign = make_campaign(actor=org.admin, team=org.team_a, name="NPS relâmpago", fatigue_days=15)

    with pytest.raises(ValidationError) as refused:
        services.campaign_activate(campaign=campaign, actor=org.leader_a)
    assert "confirm_short_fatigue" in refused.value.message_dict
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT

    services.campaign_activate(campaign=campaign, actor=org.leader_a, confirm_short_fatigue=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_the_start_form_asks_for_the_confirmation_and_refuses_without_it(org, client_for, settings):
    settings.LEME_SURVEY_FATIGUE_DAYS = 90
    campaign = make_campaign(actor=org.admin, team=org.team_a, name="NPS relâmpago", fatigue_days=15)
    client = client_for(org.leader_a)
    assert 'name="confirm_short_fatigue"' in client.get(f"/surveys/{campaign.pk}/").text

    refused = client.post(f"/surveys/{campaign.pk}/activate/", follow=True)
    assert "um líder precisa confirmar" in refused.text
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT

    client.post(f"/surveys/{campaign.pk}/activate/", {"confirm_short_fatigue": "on"})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_a_campaign_at_the_workspaces_fatigue_starts_without_a_word(org, client_for, settings):
    settings.LEME_SURVEY_FATIGUE_DAYS = 90
    campaign = make_campaign(actor=org.admin, team=org.team_a, name="NPS semestral", fatigue_days=90)
    assert 'name="confirm_short_fatigue"' not in client_for(org.leader_a).get(f"/surveys/{campaign.pk}/").text
    services.campaign_activate(campaign=campaign, actor=org.leader_a)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
