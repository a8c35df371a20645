"""Campaign pages: the list, the create form (admins and leaders), start and close, and the sending counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys import scoring
from surveys.forms import default_questions
from surveys.models import Campaign, CampaignMode, CampaignStatus, DeliveryStatus, SkipReason, SurveyKind
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_results import answer, answered, delivery_for, make_campaign, speak_english

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    pt, en = default_questions(SurveyKind.NPS)
    data = {
        "name": "NPS trimestral",
        "kind": SurveyKind.NPS,
        "scale_max": "5",  # the form always posts it; only CSAT uses it
        "question_pt": pt,
        "question_en": en,
        "mode": CampaignMode.RECURRING,
        "every_days": "90",
        "fatigue_days": "90",
        "reminder_after_days": "4",
        "expires_after_days": "30",
    }
    data.update(overrides)
    return data


# --- The list ---------------------------------------------------------------------------------------------


def test_list_shows_kind_status_counts_rate_and_score(org, client_for):
    customer = CustomerFactory(owner=org.csm_a)
    campaign = make_campaign(actor=org.admin, name="NPS de relacionamento")
    for score in (10, 9, 2):
        answered(campaign, customer, score)
    delivery_for(campaign, contact=ContactFactory(customer=customer))  # sent, not answered
    make_campaign(SurveyKind.CES, actor=org.admin, name="CES do suporte")
    speak_english(org.csm_a)

    page = client_for(org.csm_a).get("/surveys/")

    assert page.status_code == 200
    row = next(r for r in page.context["rows"] if r.campaign == campaign)
    assert (row.sent, row.answered, str(scoring.shown(row.rate))) == (4, 3, "75.0")
    assert str(scoring.shown(row.summary.score)) == "33.3"  # 2 promoters, 1 detractor of 3
    assert "NPS de relacionamento" in page.text
    assert "CES do suporte" in page.text
    assert "75%" in page.text
    assert "New campaign" not in page.text  # CSMs read results only


def test_list_filters_with_htmx(org, client_for):
    make_campaign(actor=org.admin, name="NPS de relacionamento")
    make_campaign(SurveyKind.CES, actor=org.admin, name="CES do suporte")
    page = client_for(org.leader_a).get("/surveys/", {"kind": "ces"}, HTTP_HX_REQUEST="true")
    assert "<html" not in page.text
    assert "CES do suporte" in page.text
    assert "NPS de relacionamento" not in page.text


def test_list_counts_only_what_the_reader_sees(org, client_for):
    campaign = make_campaign(actor=org.admin)
    answered(campaign, CustomerFactory(owner=org.csm_a), 10)
    answered(campaign, CustomerFactory(owner=org.csm_b), 0)
    row = client_for(org.leader_b).get("/surveys/").context["rows"][0]
    assert (row.sent, row.answered, str(scoring.shown(row.summary.score))) == (1, 1, "-100.0")


def test_list_query_count_is_constant(org, client_for, django_assert_max_num_queries):
    client = client_for(org.leader_a)
    make_campaign(actor=org.admin, name="NPS de relacionamento")
    with django_assert_max_num_queries(15) as few:
        page = client.get("/surveys/")
    assert page.status_code == 200
    assert "NPS de relacionamento" in page.text

    customer = CustomerFactory(owner=org.csm_a)
    for n in range(8):
        campaign = make_campaign([SurveyKind.NPS, SurveyKind.CSAT][n % 2], actor=org.admin, name=f"Campanha {n}")
        for score in (5, 4, 1):
            answered(campaign, customer, score)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/surveys/")

    assert page.status_code == 200
    assert all(name in page.text for name in ["NPS de relacionamento", *(f"Campanha {n}" for n in range(8))])
    assert sorted(row.answered for row in page.context["rows"]) == [0] + [3] * 8


# --- Creating --------------------------------------------------------------------------------------------


def test_only_admins_and_leaders_manage_campaigns(org, client_for):
    campaign = make_campaign(actor=org.admin, mode=CampaignMode.RECURRING, every_days=90)
    for user in (org.csm_a, org.viewer_a, org.ism_a, org.farmer_a):
        client = client_for(user)
        assert client.get("/surveys/new/").status_code == 403
        assert client.post("/surveys/new/", form_data()).status_code == 403
        assert client.post(f"/surveys/{campaign.pk}/activate/").status_code == 403
        assert client.post(f"/surveys/{campaign.pk}/close/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert Campaign.objects.count() == 1


def test_leader_creates_a_campaign_with_audience_and_schedule(org, client_for):
    client = client_for(org.leader_a)
    form = client.get("/surveys/new/")
    assert form.status_code == 200
    assert default_questions(SurveyKind.NPS)[0] in form.text  # the questions come prefilled

    response = client.post(
        "/surveys/new/",
        form_data(
            segments=["enterprise", "mid"],
            stages=["ongoing"],
            service_models=["high"],
            plan_tiers=["business"],
            contact_roles=["decision_maker", "champion"],
            owners=[str(org.csm_a.pk)],
            fatigue_days="60",
        ),
    )

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/surveys/{campaign.pk}/"
    assert campaign.status == CampaignStatus.DRAFT
    assert (campaign.mode, campaign.every_days, campaign.fatigue_days) == (CampaignMode.RECURRING, 90, 60)
    assert campaign.audience == {
        "segments": ["enterprise", "mid"],
        "stages": ["ongoing"],
        "service_models": ["high"],
        "plan_tiers": ["business"],
        "contact_roles": ["decision_maker", "champion"],
        "owners": [org.csm_a.pk],
    }
    assert campaign.created_by == org.leader_a


def test_form_errors_rerender_with_422_keeping_the_input(org, client_for):
    speak_english(org.leader_a)
    response = client_for(org.leader_a).post(
        "/surveys/new/", form_data(name="Pesquisa agendada", mode=CampaignMode.AT, every_days="", segments=["smb"])
    )
    assert response.status_code == 422
    assert "Say when to send." in response.text  # the service's rule, on its field
    assert 'value="Pesquisa agendada"' in response.text
    assert 'value="smb" id="id_segments_0" checked' in response.text
    assert not Campaign.objects.exists()


def test_form_refuses_a_transactional_campaign_without_trigger(org, client_for):
    response = client_for(org.admin).post("/surveys/new/", form_data(mode=CampaignMode.TRANSACTIONAL, trigger=""))
    assert response.status_code == 422
    assert response.context["form"].errors["trigger"]


def test_csat_campaign_on_one_to_ten(org, client_for):
    client_for(org.admin).post(
        "/surveys/new/",
        form_data(
            kind=SurveyKind.CSAT,
            scale_max="10",
            mode=CampaignMode.TRANSACTIONAL,
            trigger="handoff",
            name="CSAT pós-passagem",
        ),
    )
    campaign = Campaign.objects.get()
    assert (campaign.kind, campaign.scale_max, campaign.trigger) == (SurveyKind.CSAT, 10, "handoff")


def test_changing_the_kind_without_javascript_changes_the_standard_questions(org, client_for):
    # the form still holds the NPS questions when the kind is switched to CSAT and posted
    client_for(org.admin).post("/surveys/new/", form_data(kind=SurveyKind.CSAT, name="CSAT"))
    campaign = Campaign.objects.get()
    assert (campaign.question_pt, campaign.question_en) == default_questions(SurveyKind.CSAT)


def test_a_question_someone_wrote_is_kept(org, client_for):
    client_for(org.admin).post(
        "/surveys/new/", form_data(kind=SurveyKind.CES, question_pt="Foi fácil abrir o chamado?", name="CES")
    )
    campaign = Campaign.objects.get()
    assert campaign.question_pt == "Foi fácil abrir o chamado?"
    assert campaign.question_en == default_questions(SurveyKind.CES)[1]


def test_changing_the_kind_with_htmx_swaps_the_questions(org, client_for):
    _pt, en = default_questions(SurveyKind.NPS)
    response = client_for(org.leader_a).get(
        "/surveys/new/",
        {"kind": SurveyKind.CES, "question_pt": "Minha pergunta", "question_en": en},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="questions"' in response.text
    assert "Minha pergunta" in response.text
    assert default_questions(SurveyKind.CES)[1] in response.text


# --- Start and close ------------------------------------------------------------------------------------


def test_leader_starts_and_closes_a_campaign(org, client_for):
    campaign = make_campaign(actor=org.leader_a, mode=CampaignMode.RECURRING, every_days=90)
    client = client_for(org.leader_a)
    speak_english(org.leader_a)

    started = client.post(f"/surveys/{campaign.pk}/activate/", follow=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    assert "is active" in started.text

    client.post(f"/surveys/{campaign.pk}/close/")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert campaign.closed_at is not None

    again = client.post(f"/surveys/{campaign.pk}/activate/", follow=True)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert "A closed campaign cannot start again." in again.text


def test_activate_and_close_need_post(org, client_for):
    campaign = make_campaign(actor=org.admin)
    assert client_for(org.admin).get(f"/surveys/{campaign.pk}/activate/").status_code == 405
    assert client_for(org.admin).get(f"/surveys/{campaign.pk}/close/").status_code == 405


# --- The campaign page ------------------------------------------------------------------------------------


def test_campaign_page_counts_sent_skipped_by_reason_and_answered(org, client_for):
    customer = CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado")
    campaign = make_campaign(actor=org.admin)
    for reason in (SkipReason.OPTED_OUT, SkipReason.BOUNCED, SkipReason.FATIGUE, SkipReason.NO_EMAIL):
        delivery_for(
            campaign,
            contact=ContactFactory(customer=customer, name=f"Contato {reason}"),
            status=DeliveryStatus.SKIPPED,
            skip_reason=reason,
        )
    sent = [delivery_for(campaign, contact=ContactFactory(customer=customer)) for _ in range(3)]
    answer(sent[0], 9)
    delivery_for(campaign, contact=ContactFactory(customer=customer), status=DeliveryStatus.PENDING)
    speak_english(org.leader_a)

    page = client_for(org.leader_a).get(f"/surveys/{campaign.pk}/")

    counts = page.context["counts"]
    assert (counts.planned, counts.sent, counts.skipped, counts.answered, counts.pending) == (8, 3, 4, 1, 1)
    assert str(scoring.shown(counts.rate)) == "33.3"
    assert {code: n for code, _label, n in counts.skipped_by_reason} == {
        "opted_out": 1,
        "bounced": 1,
        "fatigue": 1,
        "no_email": 1,
    }
    assert "Who was skipped (4)" in page.text
    for text in ("Opted out of surveys", "Email bounced before", "Surveyed recently", "No email address"):
        assert text in page.text
    assert "Contato fatigue" in page.text


def test_another_teams_deliveries_are_not_shown(org, client_for):
    campaign = make_campaign(actor=org.admin)
    theirs = CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado")
    delivery_for(
        campaign,
        contact=ContactFactory(customer=theirs, name="Ana Segredo"),
        status=DeliveryStatus.SKIPPED,
        skip_reason=SkipReason.OPTED_OUT,
    )
    answered(campaign, theirs, 2, comment="Comentário do time A")

    page = client_for(org.leader_b).get(f"/surveys/{campaign.pk}/")

    assert page.status_code == 200
    assert page.context["counts"].planned == 0
    for text in ("Ana Segredo", "Padaria Pão Dourado", "Comentário do time A"):
        assert text not in page.text


def test_unknown_campaign_is_404(org, client_for):
    assert client_for(org.admin).get("/surveys/999999/").status_code == 404


def test_campaign_page_of_a_recurring_campaign_shows_the_schedule(org, client_for):
    campaign = make_campaign(
        actor=org.admin, mode=CampaignMode.AT, send_at=timezone.now() + timedelta(days=3), name="Agendada"
    )
    speak_english(org.admin)
    page = client_for(org.admin).get(f"/surveys/{campaign.pk}/")
    assert "Scheduled for" in page.text
    assert "Start the campaign" in page.text
