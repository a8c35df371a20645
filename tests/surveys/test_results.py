"""Results of surveys: scoped to what each person may see, eNPS anonymous and hidden under five answers, the
pages, the comments partial, the CSV and the query counts."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from surveys import services
from surveys.comments import CommentFilters, comments
from surveys.exports import CSV_COLUMNS, ENPS_CSV_COLUMNS
from surveys.models import (
    Campaign,
    CampaignMode,
    Delivery,
    DeliveryStatus,
    Response,
    SkipReason,
    SurveyKind,
)
from surveys.results import survey_results
from surveys.scoring import shown
from surveys.selectors import Scope
from surveys.tokens import salt_and_hash
from tests.portfolio.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


# --- Helpers shared by the survey results tests (deliveries and answers written directly) ----------------------


def make_campaign(kind: str = SurveyKind.NPS, *, actor, name: str = "", **options) -> Campaign:
    return services.campaign_create(name=name or f"Pesquisa {kind}", kind=kind, actor=actor, **options)


def delivery_for(
    campaign: Campaign,
    *,
    contact=None,
    employee=None,
    status: str = DeliveryStatus.SENT,
    skip_reason: str = "",
    sent_at=None,
    round_: int = 1,
) -> Delivery:
    salt, token_hash = salt_and_hash()
    delivery = Delivery(
        campaign=campaign,
        round=round_,
        contact=contact,
        employee=employee,
        team=employee.team if employee else None,
        customer=contact.customer if contact else None,
        email=contact.email if contact else employee.email,
        token_salt=salt,
        token_hash=token_hash,
        status=status,
        skip_reason=skip_reason,
        sent_at=(sent_at or timezone.now()) if status in (DeliveryStatus.SENT, DeliveryStatus.BOUNCED) else None,
    )
    delivery.count_for(delivery.customer)  # as planning does when the survey goes out
    delivery.save(force_insert=True)
    return delivery


def answer(delivery: Delivery, score: int, *, comment: str = "", answered_at=None, loop_closed_at=None) -> Response:
    moment = answered_at or timezone.now()
    response = Response(
        delivery=delivery,
        campaign=delivery.campaign,
        customer=delivery.customer,
        kind=delivery.campaign.kind,
        score=score,
        comment=comment,
        answered_at=moment,
        updated_at=moment,
        loop_closed_at=loop_closed_at,
    )
    response.count_for(delivery.customer)  # as answer_record does
    response.save(force_insert=True)
    return response


def answered(campaign: Campaign, customer, score: int, **kwargs) -> Response:
    """A new contact of ``customer`` was sent the survey and answered ``score``."""
    return answer(delivery_for(campaign, contact=ContactFactory(customer=customer)), score, **kwargs)


def answered_by_employee(campaign: Campaign, person, score: int, **kwargs) -> Response:
    return answer(delivery_for(campaign, employee=person), score, **kwargs)


def speak_english(*users) -> None:
    User.objects.filter(pk__in=[u.pk for u in users]).update(language="en")


@pytest.fixture
def book(org):
    """Customers of three CSMs in two teams."""
    return {
        "a1": CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado", segment="enterprise", plan_tier="business"),
        "a2": CustomerFactory(owner=org.csm_a2, name="Clínica Sorriso", segment="smb", service_model="tech"),
        "b1": CustomerFactory(owner=org.csm_b, name="Transportes Rápido Sul", segment="mid"),
    }


@pytest.fixture
def nps(org, book):
    """An NPS campaign: team A's customers answered 10, 9 and 0; team B's answered 10."""
    campaign = make_campaign(actor=org.admin, name="NPS de relacionamento")
    answered(campaign, book["a1"], 10, comment="Atendimento excelente")
    answered(campaign, book["a1"], 9)
    answered(campaign, book["a2"], 0, comment="O suporte demora dias")
    answered(campaign, book["b1"], 10, comment="Recomendo muito")
    return campaign


# --- Scope ---------------------------------------------------------------------------------------------


def test_results_are_scoped_to_what_each_person_sees(org, nps):
    def score_for(user):
        summary = survey_results(user, Scope.of_campaign(nps), detail=False).summary
        return summary.count, shown(summary.score)

    assert score_for(org.admin) == (4, Decimal("50.0"))  # 3 promoters, 1 detractor of 4
    assert score_for(org.leader_a) == (3, Decimal("33.3"))  # 2 promoters, 1 detractor of 3
    assert score_for(org.viewer_a) == (3, Decimal("33.3"))
    assert score_for(org.csm_a) == (2, Decimal("100.0"))
    assert score_for(org.csm_a2) == (1, Decimal("-100.0"))
    assert score_for(org.leader_b) == (1, Decimal("100.0"))


def test_response_rate_is_answered_over_sent_and_undefined_when_nothing_was_sent(org, book, client_for):
    # given a campaign that sent nothing
    campaign = make_campaign(actor=org.admin)
    results = survey_results(org.leader_a, Scope.of_campaign(campaign))
    assert (results.sent, results.rate) == (0, None)
    speak_english(org.leader_a)
    page = client_for(org.leader_a).get(f"/surveys/{campaign.pk}/")
    assert "nothing sent yet" in page.text

    # when four surveys go out, one more is skipped, and one is answered
    sent = [delivery_for(campaign, contact=ContactFactory(customer=book["a1"])) for _ in range(4)]
    delivery_for(
        campaign,
        contact=ContactFactory(customer=book["a1"]),
        status=DeliveryStatus.SKIPPED,
        skip_reason=SkipReason.FATIGUE,
    )
    answer(sent[0], 8)

    # then the rate is 1 of 4: the skipped one was never sent
    results = survey_results(org.leader_a, Scope.of_campaign(campaign))
    assert (results.sent, results.answered, results.rate) == (4, 1, Decimal("25.0"))


def test_results_page_shows_score_zone_distribution_and_slices(org, nps, client_for):
    speak_english(org.leader_a)
    page = client_for(org.leader_a).get(f"/surveys/{nps.pk}/")
    assert page.status_code == 200
    results = page.context["results"]
    assert shown(results.summary.score) == Decimal("33.3")
    assert results.summary.zone == "aperfeicoamento"
    assert {bar.score: bar.count for bar in results.distribution if bar.count} == {10: 1, 9: 1, 0: 1}
    assert [band.key for band, _n, _pct in results.band_counts] == ["detractor", "passive", "promoter"]
    by_csm = next(s for s in results.slices if s.key == "csm")
    assert {row.label: (row.summary.count, row.summary.score) for row in by_csm.rows} == {
        "Lucas Almeida": (2, Decimal("100.0")),
        "Beatriz Santos": (1, Decimal("-100.0")),
    }
    assert {s.key for s in results.slices} == {"csm", "segment", "service_model", "plan"}
    by_segment = next(s for s in results.slices if s.key == "segment")
    assert {row.key for row in by_segment.rows} == {"enterprise", "smb"}
    assert "Improvement" in page.text  # the zone, in the user's language
    assert "+33.3" in page.text
    assert "Transportes Rápido Sul" not in page.text  # team B's customer
    assert "Recomendo muito" not in page.text  # nor its comment


def test_trend_shows_each_month_of_answers(org, book):
    campaign = make_campaign(actor=org.admin)
    now = timezone.now()
    answered(campaign, book["a1"], 10, answered_at=now - timedelta(days=62))
    answered(campaign, book["a1"], 0, answered_at=now - timedelta(days=62))
    answered(campaign, book["a1"], 10, answered_at=now)

    trend = survey_results(org.admin, Scope.of_campaign(campaign)).trend

    assert trend[-1].month == timezone.localdate().replace(day=1)
    assert trend[-1].summary.score == Decimal("100.0")
    assert trend[0].summary.count == 2
    assert trend[0].summary.score == Decimal("0.0")
    assert len(trend) in (3, 4)  # two or three month boundaries in 62 days, with the empty month between
    assert all(m.summary.score is None for m in trend[1:-1])


def test_time_to_close_the_loop_on_detractors(org, book):
    campaign = make_campaign(actor=org.admin)
    now = timezone.now()
    answered(campaign, book["a1"], 3, answered_at=now - timedelta(hours=30), loop_closed_at=now - timedelta(hours=20))
    answered(campaign, book["a1"], 5, answered_at=now - timedelta(hours=5))
    answered(campaign, book["a1"], 9)

    loop = survey_results(org.admin, Scope.of_campaign(campaign)).loop

    assert (loop.detractors, loop.closed, loop.open) == (2, 1, 1)
    assert loop.avg_hours == Decimal("10.0")


def test_csat_results_use_the_campaigns_scale(org, book):
    five = make_campaign(SurveyKind.CSAT, actor=org.admin, scale_max=5)
    ten = make_campaign(SurveyKind.CSAT, actor=org.admin, scale_max=10)
    for score in (5, 4, 2):
        answered(five, book["a1"], score)
    for score in (10, 8):
        answered(ten, book["a1"], score)

    on_five = survey_results(org.admin, Scope.of_campaign(five))
    on_ten = survey_results(org.admin, Scope.of_campaign(ten))
    overview_five = survey_results(org.admin, Scope.of_kind(SurveyKind.CSAT, scale=5))

    assert (shown(on_five.summary.score), shown(on_five.summary.average)) == (Decimal("66.7"), Decimal("3.7"))
    assert [b.score for b in on_five.distribution] == [1, 2, 3, 4, 5]
    assert (on_ten.summary.score, on_ten.summary.average) == (Decimal("50.0"), Decimal("9.00"))
    assert len(on_ten.distribution) == 10
    assert overview_five.summary.count == 3  # a 1–10 answer is not added to 1–5 ones


def test_ces_results_average_and_easy_share(org, book):
    campaign = make_campaign(SurveyKind.CES, actor=org.admin)
    for score in (7, 6, 2, 5):
        answered(campaign, book["a1"], score)
    summary = survey_results(org.admin, Scope.of_campaign(campaign)).summary
    assert (summary.score, summary.share) == (Decimal("5.00"), Decimal("75.0"))


# --- Comments ------------------------------------------------------------------------------------------


def test_comments_filter_by_band_segment_and_csm(org, nps, book, client_for):
    client = client_for(org.leader_a)
    url = f"/surveys/{nps.pk}/"

    detractors = client.get(url, {"partial": "comments", "band": "detractor"}, HTTP_HX_REQUEST="true")
    enterprise = client.get(url, {"partial": "comments", "segment": "enterprise"}, HTTP_HX_REQUEST="true")
    beatriz = client.get(url, {"partial": "comments", "owner": org.csm_a2.pk}, HTTP_HX_REQUEST="true")

    assert "<html" not in detractors.text
    assert 'id="comments"' in detractors.text
    assert "O suporte demora dias" in detractors.text
    assert "Atendimento excelente" not in detractors.text
    assert "Atendimento excelente" in enterprise.text
    assert "O suporte demora dias" not in enterprise.text
    assert "O suporte demora dias" in beatriz.text
    assert "Recomendo muito" not in detractors.text + enterprise.text + beatriz.text  # another team's


def test_comments_filter_without_javascript_renders_the_whole_page(org, nps, client_for):
    page = client_for(org.leader_a).get(f"/surveys/{nps.pk}/", {"band": "promoter"})
    assert "<html" in page.text
    assert "Atendimento excelente" in page.text
    assert "O suporte demora dias" not in page.text


def test_comments_come_a_page_at_a_time(org, book, client_for):
    campaign = make_campaign(actor=org.admin)
    for n in range(25):
        answered(campaign, book["a1"], 9, comment=f"Comentário número {n:02d}")
    first = comments(org.admin, Scope.of_campaign(campaign), CommentFilters())
    assert (len(first.comments), first.has_next) == (20, True)

    more = client_for(org.admin).get(
        f"/surveys/{campaign.pk}/", {"partial": "comment-rows", "page": 2}, HTTP_HX_REQUEST="true"
    )

    assert more.text.count('class="comment"') == 5
    assert "Comentário número 00" in more.text  # the oldest come last
    assert "More comments" not in more.text


# --- eNPS: admins and leaders only, aggregated, anonymous, five answers at least ------------------------------


@pytest.fixture
def enps(org):
    """An eNPS campaign answered by five people of team A."""
    campaign = make_campaign(SurveyKind.ENPS, actor=org.admin, mode=CampaignMode.NOW, name="eNPS do time")
    people = [org.csm_a, org.csm_a2, org.ism_a, org.farmer_a, org.viewer_a]
    for person, score, comment in zip(
        people,
        [10, 9, 9, 6, 7],
        ["Gosto do time", "Tenho autonomia", "", "Metas mudam demais", "Carteira grande"],
        strict=True,
    ):
        answered_by_employee(campaign, person, score, comment=comment)
    return campaign


def test_enps_is_hidden_from_csms_and_viewers(org, enps, client_for):
    for user in (org.csm_a, org.viewer_a, org.ism_a):
        client = client_for(user)
        assert client.get(f"/surveys/{enps.pk}/").status_code == 404
        assert client.get("/surveys/results/enps/").status_code == 404
        assert client.get(f"/surveys/{enps.pk}/export.csv").status_code == 404
        assert "eNPS do time" not in client.get("/surveys/").text


def test_enps_results_for_leaders_never_name_anyone(org, enps, client_for):
    speak_english(org.leader_a)
    page = client_for(org.leader_a).get(f"/surveys/{enps.pk}/")
    assert page.status_code == 200
    assert page.context["results"].summary.score == Decimal("40.0")  # 3 promoters, 1 detractor of 5
    assert "Metas mudam demais" in page.text
    for person in (org.csm_a, org.csm_a2, org.ism_a, org.farmer_a, org.viewer_a):
        assert person.full_name not in page.text
        assert person.email not in page.text
    assert "Who was skipped" not in page.text


def test_enps_under_five_answers_shows_a_dash_with_a_note(org, enps, client_for):
    # leader B's team answered nothing, and four answers of team B are not enough either
    speak_english(org.leader_b)
    for person in (org.csm_b, org.leader_b):
        answered_by_employee(enps, person, 0, comment="Comentário do time B")
    page = client_for(org.leader_b).get(f"/surveys/{enps.pk}/")
    assert page.context["results"].summary.hidden
    assert "Not enough answers to show" in page.text
    assert "Comentário do time B" not in page.text
    assert page.context["comment_page"].hidden


def test_enps_csv_has_no_identifying_column(org, enps, client_for):
    response = client_for(org.admin).get(f"/surveys/{enps.pk}/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ENPS_CSV_COLUMNS == ["answered_month", "campaign", "score", "comment"]
    assert len(rows) == 6
    text = str(rows)
    for person in (org.csm_a, org.csm_a2, org.ism_a, org.farmer_a, org.viewer_a):
        assert person.full_name not in text
        assert person.email not in text
    assert [int(r[2]) for r in rows[1:]] == sorted(int(r[2]) for r in rows[1:])  # order tells nothing


def test_enps_csv_under_five_answers_is_empty(org, client_for):
    campaign = make_campaign(SurveyKind.ENPS, actor=org.admin)
    answered_by_employee(campaign, org.csm_a, 10)
    response = client_for(org.admin).get(f"/surveys/{campaign.pk}/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [ENPS_CSV_COLUMNS]


# --- CSV ---------------------------------------------------------------------------------------------------


def test_csv_export_is_scoped(org, nps, client_for):
    response = client_for(org.leader_a).get(f"/surveys/{nps.pk}/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == CSV_COLUMNS
    customers = {row[CSV_COLUMNS.index("customer")] for row in rows[1:]}
    assert customers == {"Padaria Pão Dourado", "Clínica Sorriso"}
    assert len(rows) == 4


def test_csv_keeps_formulas_as_text(org, book, client_for):
    campaign = make_campaign(actor=org.admin)
    answered(campaign, book["a1"], 10, comment='=HYPERLINK("http://mal.example")')
    response = client_for(org.admin).get(f"/surveys/{campaign.pk}/export.csv")
    assert "'=HYPERLINK" in b"".join(response.streaming_content).decode()


# --- Overview -------------------------------------------------------------------------------------------


def test_overview_adds_up_every_campaign_of_a_kind(org, nps, book, client_for):
    second = make_campaign(actor=org.admin, name="NPS pós-implantação")
    answered(second, book["a1"], 10)
    answered(second, book["a2"], 10, answered_at=timezone.now() - timedelta(days=500))  # outside 12 months
    csat = make_campaign(SurveyKind.CSAT, actor=org.admin, scale_max=5)
    answered(csat, book["a1"], 1)

    page = client_for(org.leader_a).get("/surveys/results/nps/")

    assert page.status_code == 200
    summary = page.context["results"].summary
    assert summary.count == 4  # 3 of the first campaign and 1 of the second, in the last 12 months
    assert summary.score == Decimal("50.0")
    assert {row.campaign.pk for row in page.context["campaigns"]} == {nps.pk, second.pk}
    assert client_for(org.leader_a).get("/surveys/results/nps/", {"months": 24}).context["results"].summary.count == 5
    assert client_for(org.leader_a).get("/surveys/results/bogus/").status_code == 404


def test_overview_export_covers_the_kind(org, nps, client_for):
    response = client_for(org.admin).get("/surveys/results/nps/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 5


# --- Query counts ------------------------------------------------------------------------------------------


def test_results_page_and_comments_query_counts_are_constant(org, nps, book, client_for, django_assert_max_num_queries):
    client = client_for(org.leader_a)
    url = f"/surveys/{nps.pk}/"
    with django_assert_max_num_queries(60) as few:
        page = client.get(url)
        comments = client.get(url, {"partial": "comments", "band": "promoter"}, HTTP_HX_REQUEST="true")
        overview = client.get("/surveys/results/nps/")
    assert [page.status_code, comments.status_code, overview.status_code] == [200, 200, 200]
    assert page.context["results"].summary.count == 3  # team A's answers only
    assert "Atendimento excelente" in comments.text
    assert "NPS de relacionamento" in overview.text

    for n in range(12):
        customer = CustomerFactory(owner=[org.csm_a, org.csm_a2][n % 2], segment=["smb", "mid", "enterprise"][n % 3])
        for score in (n % 11, 10, 7):
            answered(
                nps, customer, score, comment=f"Comentário {n:02}", answered_at=timezone.now() - timedelta(days=30 * n)
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)
        comments = client.get(url, {"partial": "comments", "band": "promoter"}, HTTP_HX_REQUEST="true")
        overview = client.get("/surveys/results/nps/")

    assert [page.status_code, comments.status_code, overview.status_code] == [200, 200, 200]
    assert page.context["results"].summary.count == 3 + 36
    assert org.csm_a.full_name in page.text  # the slice by CSM: team A's, not team B's
    assert org.csm_a2.full_name in page.text
    assert org.csm_b.full_name not in page.text
    # the promoters' comments: the first one, each new customer's 10, and the 9 and 10 of customers 9 and 10
    shown = re.findall(r'<p class="comment-text">(.*?)</p>', comments.text)
    assert len(shown) == 1 + 12 + 2
    assert set(shown) == {"Atendimento excelente", *(f"Comentário {n:02}" for n in range(12))}
    assert overview.context["results"].summary.count == 3 + 36  # every answer is within the last 12 months
    assert "NPS de relacionamento" in overview.text


def test_csat_overview_opens_on_the_latest_campaigns_scale(org, book, client_for):
    make_campaign(SurveyKind.CSAT, actor=org.admin, scale_max=5)
    ten = make_campaign(SurveyKind.CSAT, actor=org.admin, scale_max=10)
    answered(ten, book["a1"], 9)
    page = client_for(org.admin).get("/surveys/results/csat/")
    assert page.context["results"].scope.scale_top == 10
    assert page.context["results"].summary.count == 1
    assert page.context["form"]["months"].value() == "12"
    assert client_for(org.admin).get("/surveys/results/csat/", {"scale": 5}).context["results"].summary.count == 0
