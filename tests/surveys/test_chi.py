"""The CSM's part of the Customer Happiness Index: the service that records it, the combined score (the
customer's yes plus the CSM's yes, 0–10) in the results and the campaign list, and the CSM's pages."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portfolio.models import Customer
from surveys import answers
from surveys.campaign_counts import campaign_list
from surveys.models import ChiAssessment, ChiCriterion, SurveyKind
from surveys.results import survey_results
from surveys.scoring import shown
from surveys.selectors import Scope
from surveys.selectors_chi import chi_customer_rows, chi_scores
from surveys.services_chi import chi_assessment_record
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_results import delivery_for, make_campaign, speak_english

pytestmark = pytest.mark.django_db

CUSTOMER_POSITIONS = range(1, 7)
CSM_POSITIONS = range(7, 11)


@pytest.fixture
def criteria(db):
    """Six criteria answered by the customer (1–6), four by the CSM (7–10)."""
    for position in range(1, 11):
        ChiCriterion.objects.create(
            position=position,
            text_pt=f"Critério {position}",
            text_en=f"Criterion {position}",
            answered_by="customer" if position in CUSTOMER_POSITIONS else "csm",
        )


@pytest.fixture
def chi(org, criteria):
    return make_campaign(SurveyKind.CHI, actor=org.admin, name="CHI semestral")


def customer_answers(campaign, customer, yes: int):
    """A contact of ``customer`` answers the customer's criteria: the first ``yes`` of them "yes"."""
    delivery = delivery_for(campaign, contact=ContactFactory(customer=customer))
    given = {str(p): "yes" if n < yes else "no" for n, p in enumerate(CUSTOMER_POSITIONS)}
    return answers.answer_record(delivery=delivery, score=None, chi_answers=given)


def csm_answers(yes: int) -> dict:
    return {str(p): 1 if n < yes else 0 for n, p in enumerate(CSM_POSITIONS)}


def in_audience(owner, **kwargs) -> Customer:
    customer = CustomerFactory(owner=owner, **kwargs)
    ContactFactory(customer=customer)
    return customer


# --- The combined score ----------------------------------------------------------------------------------------


def test_score_is_the_customers_yes_plus_the_csms_yes(org, chi):
    # given a customer who said yes to 4 of the 6 customer criteria, and their CSM to 3 of the 4 CSM criteria
    customer = CustomerFactory(owner=org.csm_a)
    customer_answers(chi, customer, yes=4)
    chi_assessment_record(campaign=chi, customer=customer, answers=csm_answers(3), actor=org.csm_a)

    # when
    results = survey_results(org.csm_a, Scope.of_campaign(chi))

    # then 4 + 3 = 7
    assert results.summary.count == 1
    assert str(shown(results.summary.score)) == "7.0"
    assert {bar.score: bar.count for bar in results.distribution}[7] == 1
    assert [row.score for row in chi_customer_rows(org.csm_a, chi)] == [7]


def test_a_missing_part_counts_zero(org, chi):
    only_customer = CustomerFactory(owner=org.csm_a, name="A só cliente")
    only_csm = CustomerFactory(owner=org.csm_a, name="B só CSM")
    customer_answers(chi, only_customer, yes=5)
    chi_assessment_record(campaign=chi, customer=only_csm, answers=csm_answers(2), actor=org.csm_a)

    scores = {s.customer_id: s for s in chi_scores(org.csm_a, Scope.of_campaign(chi))}

    assert (scores[only_customer.pk].customer_part, scores[only_customer.pk].csm_part) == (5, None)
    assert (scores[only_csm.pk].customer_part, scores[only_csm.pk].csm_part) == (None, 2)
    assert sorted(s.score for s in scores.values()) == [2, 5]
    assert str(shown(survey_results(org.csm_a, Scope.of_campaign(chi)).summary.score)) == "3.5"


def test_the_latest_customer_answer_is_their_part(org, chi):
    customer = CustomerFactory(owner=org.csm_a)
    customer_answers(chi, customer, yes=1)
    customer_answers(chi, customer, yes=6)

    [score] = chi_scores(org.admin, Scope.of_campaign(chi))

    assert (score.customer_part, score.csm_part, score.score) == (6, None, 6)


def test_overview_slices_and_campaign_list_use_the_combined_score(org, chi, client_for):
    customer = CustomerFactory(owner=org.csm_a, segment="enterprise")
    customer_answers(chi, customer, yes=4)
    chi_assessment_record(campaign=chi, customer=customer, answers=csm_answers(4), actor=org.csm_a)

    overview = survey_results(org.leader_a, Scope.of_kind(SurveyKind.CHI))
    by_segment = next(s for s in overview.slices if s.key == "segment")
    [row] = campaign_list(org.leader_a, kind=SurveyKind.CHI)

    assert str(shown(overview.summary.score)) == "8.0"
    assert [(r.key, str(shown(r.summary.score))) for r in by_segment.rows] == [("enterprise", "8.0")]
    assert sum(m.summary.count for m in overview.trend) == 1
    assert str(shown(row.summary.score)) == "8.0"
    assert client_for(org.leader_a).get("/surveys/results/chi/").status_code == 200


def test_another_teams_assessments_are_not_counted(org, chi):
    chi_assessment_record(
        campaign=chi, customer=CustomerFactory(owner=org.csm_b), answers=csm_answers(4), actor=org.csm_b
    )

    assert survey_results(org.leader_a, Scope.of_campaign(chi)).summary.count == 0
    assert survey_results(org.leader_b, Scope.of_campaign(chi)).summary.count == 1


# --- The service --------------------------------------------------------------------------------------------------


def test_recording_again_replaces_the_csms_part(org, chi):
    customer = CustomerFactory(owner=org.csm_a)
    first = chi_assessment_record(campaign=chi, customer=customer, answers=csm_answers(1), actor=org.csm_a)

    again = chi_assessment_record(
        campaign=chi, customer=customer, answers={"7": "yes", "8": "yes", "9": "no", "10": "yes"}, actor=org.leader_a
    )

    assert again.pk == first.pk
    assert (again.score, again.answers, again.answered_by) == (3, {"7": 1, "8": 1, "9": 0, "10": 1}, org.leader_a)
    assert ChiAssessment.objects.count() == 1


@pytest.mark.parametrize(
    ("given", "error_key"),
    [
        ({**csm_answers(2), "11": 1}, "answers"),  # unknown position
        ({**csm_answers(2), "3": 1}, "answers"),  # a customer's criterion answered by the CSM
        ({**csm_answers(2), "8": 2}, "chi-8"),  # not 0/1
        ({"7": 1, "8": 0, "9": 1}, "chi-10"),  # one left unanswered
    ],
)
def test_the_service_refuses_answers_that_are_not_one_yes_or_no_per_csm_criterion(org, chi, given, error_key):
    customer = CustomerFactory(owner=org.csm_a)

    with pytest.raises(ValidationError) as error:
        chi_assessment_record(campaign=chi, customer=customer, answers=given, actor=org.csm_a)

    assert error_key in error.value.message_dict
    assert not ChiAssessment.objects.exists()


def test_the_service_refuses_viewers_other_teams_and_other_kinds(org, chi):
    customer = CustomerFactory(owner=org.csm_a)
    nps = make_campaign(SurveyKind.NPS, actor=org.admin)

    with pytest.raises(PermissionDenied):
        chi_assessment_record(campaign=chi, customer=customer, answers=csm_answers(1), actor=org.viewer_a)
    with pytest.raises(Customer.DoesNotExist):
        chi_assessment_record(campaign=chi, customer=customer, answers=csm_answers(1), actor=org.csm_b)
    with pytest.raises(ValidationError):
        chi_assessment_record(campaign=nps, customer=customer, answers=csm_answers(1), actor=org.csm_a)
    assert not ChiAssessment.objects.exists()


# --- The pages --------------------------------------------------------------------------------------------------


def test_campaign_page_links_to_the_csm_criteria(org, chi, client_for):
    speak_english(org.csm_a, org.viewer_a)
    page = client_for(org.csm_a).get(f"/surveys/{chi.pk}/")

    assert "Answer the CSM criteria" in page.text
    assert f'href="/surveys/{chi.pk}/chi/"' in page.text
    assert "Answer the CSM criteria" not in client_for(org.viewer_a).get(f"/surveys/{chi.pk}/").text


def test_list_page_shows_the_parts_of_the_csms_customers(org, chi, client_for):
    mine = in_audience(org.csm_a, name="Padaria Pão Dourado")
    customer_answers(chi, mine, yes=4)
    in_audience(org.csm_b, name="Transportes Rápido Sul")
    speak_english(org.csm_a)

    page = client_for(org.csm_a).get(f"/surveys/{chi.pk}/chi/")

    assert page.status_code == 200
    assert "Padaria Pão Dourado" in page.text
    assert "Transportes Rápido Sul" not in page.text
    assert "CSM part not yet answered" in page.text
    [row] = page.context["rows"]
    assert (row.customer_part, row.csm_part, row.score) == (4, None, 4)


def test_csm_answers_on_the_page_without_javascript(org, chi, client_for):
    # given
    customer = in_audience(org.csm_a)
    customer_answers(chi, customer, yes=4)
    client = client_for(org.csm_a)
    url = f"/surveys/{chi.pk}/chi/{customer.pk}/"

    # when
    form = client.get(url)
    saved = client.post(url, {"chi-7": "yes", "chi-8": "yes", "chi-9": "no", "chi-10": "yes"})

    # then
    assert form.status_code == 200
    assert 'type="radio" name="chi-7" value="yes"' in form.text
    assert "<legend>7. Critério 7</legend>" in form.text
    assert saved.status_code == 302
    assert saved.url == f"/surveys/{chi.pk}/chi/"
    assert ChiAssessment.objects.get(campaign=chi, customer=customer).score == 3
    assert [r.score for r in client.get(f"/surveys/{chi.pk}/chi/").context["rows"]] == [7]


def test_an_incomplete_form_rerenders_with_422_keeping_the_input(org, chi, client_for):
    customer = in_audience(org.csm_a)

    page = client_for(org.csm_a).post(f"/surveys/{chi.pk}/chi/{customer.pk}/", {"chi-7": "yes", "chi-8": "no"})

    assert page.status_code == 422
    assert 'name="chi-7" value="yes" required checked' in page.text
    assert 'name="chi-8" value="no" required checked' in page.text
    assert 'id="chi-9-error"' in page.text
    assert not ChiAssessment.objects.exists()


def test_viewers_get_403_and_another_teams_customer_404(org, chi, client_for):
    customer = in_audience(org.csm_a)
    url = f"/surveys/{chi.pk}/chi/{customer.pk}/"

    assert client_for(org.viewer_a).get(f"/surveys/{chi.pk}/chi/").status_code == 403
    assert client_for(org.viewer_a).post(url, csm_answers(4)).status_code == 403
    assert client_for(org.csm_b).get(url).status_code == 404
    assert client_for(org.leader_b).post(url, {"chi-7": "yes"}).status_code == 404
    assert client_for(org.csm_a).get(f"/surveys/{make_campaign(actor=org.admin).pk}/chi/").status_code == 404
    assert not ChiAssessment.objects.exists()


def test_list_page_query_count_is_constant(org, chi, client_for, django_assert_max_num_queries):
    client = client_for(org.leader_a)
    first = in_audience(org.csm_a)
    customer_answers(chi, first, yes=3)
    with django_assert_max_num_queries(12) as few:
        page = client.get(f"/surveys/{chi.pk}/chi/")
    assert page.status_code == 200
    assert first.name in page.text
    added = []
    for n in range(8):
        customer = in_audience([org.csm_a, org.csm_a2][n % 2])
        customer_answers(chi, customer, yes=n % 7)
        chi_assessment_record(campaign=chi, customer=customer, answers=csm_answers(n % 5), actor=org.leader_a)
        added.append(customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(f"/surveys/{chi.pk}/chi/")
    assert page.status_code == 200
    assert len(page.context["rows"]) == 9
    assert all(customer.name in page.text for customer in [first, *added])
