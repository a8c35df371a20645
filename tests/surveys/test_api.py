"""The surveys API: answers and campaigns through the door, eNPS anonymous, results, and surveying one contact."""

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys import services
from surveys.models import CampaignMode, CampaignStatus, Delivery, DeliveryStatus, SkipReason, SurveyKind, Trigger
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_results import answered, answered_by_employee, delivery_for, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org):
    return {
        "a1": CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado"),
        "a2": CustomerFactory(owner=org.csm_a2, name="Clínica Sorriso"),
        "b1": CustomerFactory(owner=org.csm_b, name="Transportes Rápido Sul"),
    }


@pytest.fixture
def nps(org, book):
    campaign = make_campaign(actor=org.admin, name="NPS de relacionamento")
    answered(campaign, book["a1"], 10, comment="Excelente")
    answered(campaign, book["a2"], 3, comment="Lento")
    answered(campaign, book["b1"], 8)
    return campaign


@pytest.fixture
def enps(org):
    campaign = make_campaign(SurveyKind.ENPS, actor=org.admin, name="eNPS do time")
    for person, score in zip(
        [org.csm_a, org.csm_a2, org.ism_a, org.farmer_a, org.viewer_a], [10, 9, 9, 6, 7], strict=True
    ):
        answered_by_employee(campaign, person, score, comment="Comentário anônimo")
    return campaign


def api_transactional(org, *, trigger=Trigger.API, status=CampaignStatus.ACTIVE):
    campaign = make_campaign(
        SurveyKind.CSAT, actor=org.admin, mode=CampaignMode.TRANSACTIONAL, trigger=trigger, scale_max=5
    )
    if status == CampaignStatus.ACTIVE:
        services.campaign_activate(campaign=campaign, actor=org.admin)
    return campaign


# --- Answers --------------------------------------------------------------------------------------------


def test_responses_are_scoped(org, nps, book, api_for):
    def customers(user):
        return {row["customer"] for row in api_for(user).get("/api/v1/survey-responses/").json()["results"]}

    assert customers(org.csm_a) == {book["a1"].pk}
    assert customers(org.leader_a) == {book["a1"].pk, book["a2"].pk}
    assert customers(org.leader_b) == {book["b1"].pk}
    assert customers(org.admin) == {book["a1"].pk, book["a2"].pk, book["b1"].pk}


def test_response_fields(org, nps, book, api_for):
    row = api_for(org.csm_a).get("/api/v1/survey-responses/").json()["results"][0]
    assert set(row) == {
        "id",
        "campaign",
        "kind",
        "score",
        "comment",
        "chi_answers",
        "answered_month",
        "answered_at",
        "updated_at",
        "delivery",
        "customer",
        "contact",
        "loop_closed_at",
    }
    assert (row["campaign"], row["kind"], row["score"], row["comment"]) == (nps.pk, "nps", 10, "Excelente")
    assert row["contact"] is not None
    assert row["delivery"] is not None


def test_responses_filter_by_campaign_kind_customer_and_dates(org, nps, book, api_for):
    client = api_for(org.admin)
    ces = make_campaign(SurveyKind.CES, actor=org.admin)
    old = answered(ces, book["a1"], 6, answered_at=timezone.now() - timedelta(days=40))

    def ids(**params):
        return {row["id"] for row in client.get("/api/v1/survey-responses/", params).json()["results"]}

    assert len(ids(campaign=nps.pk)) == 3
    assert ids(kind="ces") == {old.pk}
    assert len(ids(customer=book["a1"].pk)) == 2
    assert ids(answered_before=(timezone.now() - timedelta(days=30)).isoformat()) == {old.pk}
    assert old.pk not in ids(answered_after=(timezone.now() - timedelta(days=1)).isoformat())
    assert client.get("/api/v1/survey-responses/", {"answered_after": "not a date"}).status_code == 400
    assert client.get("/api/v1/survey-responses/", {"kind": "bogus"}).status_code == 400


def test_enps_responses_are_hidden_from_csms(org, enps, nps, api_for):
    rows = api_for(org.csm_a).get("/api/v1/survey-responses/").json()["results"]
    assert all(row["kind"] != "enps" for row in rows)
    assert api_for(org.csm_a).get("/api/v1/survey-responses/", {"kind": "enps"}).json()["count"] == 0


def test_enps_responses_for_leaders_carry_no_delivery_customer_or_contact(org, enps, api_for):
    for user in (org.admin, org.leader_a):
        rows = api_for(user).get("/api/v1/survey-responses/", {"kind": "enps"}).json()["results"]
        assert len(rows) == 5
        assert all(row["delivery"] is None and row["customer"] is None and row["contact"] is None for row in rows)
        text = str(rows)
        assert org.csm_a.email not in text
        assert org.csm_a.full_name not in text


def test_enps_responses_under_five_answers_are_not_listed(org, api_for):
    campaign = make_campaign(SurveyKind.ENPS, actor=org.admin)
    for person in (org.csm_a, org.csm_a2, org.ism_a, org.farmer_a):
        answered_by_employee(campaign, person, 10)
    assert api_for(org.admin).get("/api/v1/survey-responses/", {"kind": "enps"}).json()["count"] == 0


def test_responses_query_count_is_constant(org, nps, book, api_for, django_assert_max_num_queries):
    client = api_for(org.leader_a)
    with django_assert_max_num_queries(10) as few:
        small = client.get("/api/v1/survey-responses/")
    assert small.status_code == 200
    assert small.json()["count"] == 2  # team A's two answers, not team B's
    added = [answered(nps, book["a1" if n % 2 else "a2"], n % 11) for n in range(15)]
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/survey-responses/")
    assert response.status_code == 200
    assert response.json()["count"] == 17
    assert {row["id"] for row in response.json()["results"]} >= {answer.pk for answer in added}


# --- Campaigns and results ---------------------------------------------------------------------------------


def test_campaigns_list_hides_enps_from_csms(org, nps, enps, api_for):
    def names(user):
        return {row["name"] for row in api_for(user).get("/api/v1/survey-campaigns/").json()["results"]}

    assert names(org.csm_a) == {"NPS de relacionamento"}
    assert names(org.leader_a) == {"NPS de relacionamento", "eNPS do time"}
    assert api_for(org.csm_a).get(f"/api/v1/survey-campaigns/{enps.pk}/").status_code == 404
    assert api_for(org.csm_a).get(f"/api/v1/survey-campaigns/{enps.pk}/results/").status_code == 404


def test_results_give_score_zone_counts_and_rate(org, nps, book, api_for):
    delivery_for(nps, contact=ContactFactory(customer=book["a1"]))  # sent, not answered
    delivery_for(
        nps, contact=ContactFactory(customer=book["a1"]), status=DeliveryStatus.SKIPPED, skip_reason=SkipReason.FATIGUE
    )

    body = api_for(org.leader_a).get(f"/api/v1/survey-campaigns/{nps.pk}/results/").json()

    # team A: 10 and 3 answered, 1 sent without answer, 1 skipped; 1 promoter, 1 detractor → 0 → Crítica
    assert body == {
        "campaign": nps.pk,
        "kind": "nps",
        "answers": 2,
        "score": 0.0,
        "zone": "critica",
        "average": None,
        "share": None,
        "hidden": False,
        "response_rate": 66.7,
        "counts": {
            "planned": 4,
            "sent": 3,
            "skipped": 1,
            "answered": 2,
            "promoters": 1,
            "passives": 0,
            "detractors": 1,
        },
    }


def test_results_with_nothing_sent_have_an_undefined_rate(org, api_for):
    campaign = make_campaign(SurveyKind.CSAT, actor=org.admin, scale_max=5)
    body = api_for(org.admin).get(f"/api/v1/survey-campaigns/{campaign.pk}/results/").json()
    assert (body["score"], body["response_rate"], body["zone"], body["answers"]) == (None, None, None, 0)


def test_enps_results_under_five_are_hidden(org, api_for):
    campaign = make_campaign(SurveyKind.ENPS, actor=org.admin)
    answered_by_employee(campaign, org.csm_a, 10)
    body = api_for(org.admin).get(f"/api/v1/survey-campaigns/{campaign.pk}/results/").json()
    assert body["hidden"] is True
    assert body["score"] is None
    assert body["counts"]["promoters"] is None


def test_csat_results(org, book, api_for):
    campaign = make_campaign(SurveyKind.CSAT, actor=org.admin, scale_max=5)
    for score in (5, 4, 4, 1):
        answered(campaign, book["a1"], score)
    body = api_for(org.admin).get(f"/api/v1/survey-campaigns/{campaign.pk}/results/").json()
    assert (body["score"], body["share"], body["average"], body["zone"]) == (75.0, 75.0, 3.5, None)


# --- Surveying one contact -------------------------------------------------------------------------------


def test_send_to_a_contact_through_an_api_campaign(org, book, api_for):
    campaign = api_transactional(org)
    contact = ContactFactory(customer=book["a1"])

    response = api_for(org.csm_a).post(f"/api/v1/survey-campaigns/{campaign.pk}/send/", {"contact": contact.pk})

    assert response.status_code == 200, response.content
    delivery = Delivery.objects.get(campaign=campaign, contact=contact)
    assert response.json()["id"] == delivery.pk
    assert response.json()["status"] in (DeliveryStatus.PENDING, DeliveryStatus.SENT)
    assert response.json()["customer"] == book["a1"].pk


def test_send_answers_a_skipped_delivery_with_its_reason(org, book, api_for):
    campaign = api_transactional(org)
    contact = ContactFactory(customer=book["a1"], email="")
    body = api_for(org.csm_a).post(f"/api/v1/survey-campaigns/{campaign.pk}/send/", {"contact": contact.pk}).json()
    assert (body["status"], body["skip_reason"]) == (DeliveryStatus.SKIPPED, SkipReason.NO_EMAIL)


def test_send_refuses_campaigns_not_sent_by_api(org, book, api_for):
    contact = ContactFactory(customer=book["a1"])
    recurring = make_campaign(actor=org.admin, mode=CampaignMode.RECURRING, every_days=90)
    on_handoff = api_transactional(org, trigger=Trigger.HANDOFF)
    for campaign in (recurring, on_handoff):
        response = api_for(org.csm_a).post(f"/api/v1/survey-campaigns/{campaign.pk}/send/", {"contact": contact.pk})
        assert response.status_code == 400
        assert "non_field_errors" in response.json()
    assert not Delivery.objects.exists()


def test_send_refuses_a_campaign_that_is_not_active(org, book, api_for):
    campaign = api_transactional(org, status=CampaignStatus.DRAFT)
    contact = ContactFactory(customer=book["a1"])
    response = api_for(org.admin).post(f"/api/v1/survey-campaigns/{campaign.pk}/send/", {"contact": contact.pk})
    assert response.status_code == 400
    assert not Delivery.objects.exists()


def test_send_to_another_teams_contact_is_not_found(org, book, api_for):
    campaign = api_transactional(org)
    theirs = ContactFactory(customer=book["b1"])
    response = api_for(org.csm_a).post(f"/api/v1/survey-campaigns/{campaign.pk}/send/", {"contact": theirs.pk})
    assert response.status_code == 400
    assert list(response.json()) == ["contact"]
    bad = api_for(org.csm_a).post(f"/api/v1/survey-campaigns/{campaign.pk}/send/", {"contact": "x"})
    assert bad.status_code == 400
    assert not Delivery.objects.exists()


def test_viewers_cannot_send(org, book, api_for):
    campaign = api_transactional(org)
    contact = ContactFactory(customer=book["a1"])
    response = api_for(org.viewer_a).post(f"/api/v1/survey-campaigns/{campaign.pk}/send/", {"contact": contact.pk})
    assert response.status_code == 403


def test_results_show_one_decimal_rounded_half_up_as_the_pages_do(org, book, api_for):
    # given CSAT answers averaging 4.25 (17 ÷ 4: 4.3 half up, where half-even would say 4.2), all satisfied,
    # and 4 of 7 sent answered (57.14…%)
    campaign = make_campaign(SurveyKind.CSAT, actor=org.admin, scale_max=5)
    for score in (5, 4, 4, 4):
        answered(campaign, book["a1"], score)
    for _n in range(3):
        delivery_for(campaign, contact=ContactFactory(customer=book["a1"]))

    body = api_for(org.admin).get(f"/api/v1/survey-campaigns/{campaign.pk}/results/").json()

    assert (body["average"], body["score"], body["share"], body["response_rate"]) == (4.3, 100.0, 100.0, 57.1)
