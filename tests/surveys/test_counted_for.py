"""An answer counts for the CSM who owned the customer when it was given, and for the segment, service model
and plan of then (DOMAIN.md): reassigning customers, or moving them to another segment, leaves their past
answers where they were, in the results' slices (live and tallied), the comments' CSM filter and the CSV."""

import csv
import importlib
import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from portfolio import services as portfolio_services
from portfolio.models import Contact, OwnershipPeriod
from surveys import tallies
from surveys.answers import answer_record
from surveys.comments import CommentFilters, comments
from surveys.counted_for import counted_for_fill
from surveys.exports import CSV_COLUMNS
from surveys.models import ChiAssessment, Delivery, Response
from surveys.planning import plan_contacts
from surveys.results import survey_results
from surveys.selectors import Scope
from surveys.services_chi import chi_assessment_record
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import DeliveryFactory
from tests.surveys.test_chi import chi as chi_campaign  # noqa: F401 - fixture
from tests.surveys.test_chi import criteria, csm_answers  # noqa: F401 - fixture
from tests.surveys.test_results import make_campaign

pytestmark = pytest.mark.django_db

ALWAYS, NEVER = 0, 10**9


def by(results, key: str) -> dict:
    """{row label: number of answers} of one of the results' slices."""
    return {row.label: row.summary.count for row in next(s for s in results.slices if s.key == key).rows}


def sent_by(results, key: str) -> dict:
    return {row.label: (row.sent, row.answered) for row in next(s for s in results.slices if s.key == key).rows}


@pytest.fixture
def reassigned(org):
    """Lucas's two customers answered NPS (a promoter and a detractor), Beatriz's one answered; then the
    leader moved Lucas's two to Beatriz and one of them from enterprise to SMB."""
    lucas_1 = CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado", segment="enterprise")
    lucas_2 = CustomerFactory(owner=org.csm_a, name="Clínica Sorriso", segment="enterprise")
    beatriz = CustomerFactory(owner=org.csm_a2, name="Transportes Rápido Sul", segment="mid")
    campaign = make_campaign(actor=org.admin, name="NPS de relacionamento")
    for customer, score, comment in [(lucas_1, 10, "Ótimo"), (lucas_2, 3, "Demora no suporte"), (beatriz, 9, "")]:
        delivery = DeliveryFactory(campaign=campaign, contact=ContactFactory(customer=customer))
        answer_record(delivery=delivery, score=score, comment=comment)
    portfolio_services.customers_reassign(customers=[lucas_1, lucas_2], to_owner=org.csm_a2, actor=org.leader_a)
    portfolio_services.customer_update(customer=lucas_1, actor=org.leader_a, segment="smb")
    return campaign


@pytest.mark.parametrize("from_tallies", [False, True], ids=["live", "tallied"])
def test_reassigned_customers_answers_stay_with_the_csm_who_owned_them(org, reassigned, settings, from_tallies):
    # given the tallies built after the reassignment, or none used
    tallies.rebuild()
    settings.LEME_SURVEY_TALLIES_FROM = ALWAYS if from_tallies else NEVER

    # when the leader opens the campaign's results
    results = survey_results(org.leader_a, Scope.of_campaign(reassigned))

    # then Lucas keeps his two answers and the sends behind them, Beatriz has her own one, and the customer
    # moved to SMB still counts in enterprise
    assert (results.as_of is not None) is from_tallies
    assert by(results, "csm") == {"Lucas Almeida": 2, "Beatriz Santos": 1}
    assert sent_by(results, "csm") == {"Lucas Almeida": (2, 2), "Beatriz Santos": (1, 1)}
    assert by(results, "segment") == {"Enterprise": 2, "Mid-market": 1}


def test_comment_filter_and_csv_name_the_csm_of_then(org, reassigned, client_for):
    scope = Scope.of_campaign(reassigned)
    lucas = comments(org.leader_a, scope, CommentFilters(owner=org.csm_a.pk))
    beatriz = comments(org.leader_a, scope, CommentFilters(owner=org.csm_a2.pk))
    assert sorted(c.text for c in lucas.comments) == ["Demora no suporte", "Ótimo"]
    assert {c.owner_name for c in lucas.comments} == {"Lucas Almeida"}
    assert beatriz.comments == []
    assert comments(org.leader_a, scope, CommentFilters(segment="smb")).comments == []

    response = client_for(org.leader_a).get(f"/surveys/{reassigned.pk}/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    column = {name: i for i, name in enumerate(CSV_COLUMNS)}
    assert sorted((r[column["customer"]], r[column["csm"]], r[column["segment"]]) for r in rows[1:]) == [
        ("Clínica Sorriso", "Lucas Almeida", "enterprise"),
        ("Padaria Pão Dourado", "Lucas Almeida", "enterprise"),
        ("Transportes Rápido Sul", "Beatriz Santos", "mid"),
    ]


def test_answering_again_after_a_reassignment_keeps_whom_the_answer_counts_for(org):
    customer = CustomerFactory(owner=org.csm_a, segment="enterprise")
    delivery = DeliveryFactory(campaign=make_campaign(actor=org.admin), contact=ContactFactory(customer=customer))
    answer_record(delivery=delivery, score=4)
    portfolio_services.customers_reassign(customers=[customer], to_owner=org.csm_a2, actor=org.leader_a)

    answer_record(delivery=delivery, score=8)

    response = Response.objects.get(delivery=delivery)
    assert (response.score, response.csm_id, response.segment) == (8, org.csm_a.pk, "enterprise")


def test_a_survey_going_out_counts_for_the_customers_csm_of_then(org):
    customer = CustomerFactory(owner=org.csm_a, segment="enterprise", plan_tier="business", service_model="high")
    contact = ContactFactory(customer=customer)
    plan_contacts(make_campaign(actor=org.admin), Contact.objects.filter(pk=contact.pk), timezone.now())
    delivery = Delivery.objects.get(contact=contact)
    assert (delivery.csm_id, delivery.segment, delivery.plan_tier, delivery.service_model) == (
        org.csm_a.pk,
        "enterprise",
        "business",
        "high",
    )


def test_the_csms_chi_assessment_counts_for_the_csm_who_gave_it(org, chi_campaign):  # noqa: F811
    customer = CustomerFactory(owner=org.csm_a, segment="smb")
    chi_assessment_record(campaign=chi_campaign, customer=customer, answers=csm_answers(2), actor=org.csm_a)
    portfolio_services.customers_reassign(customers=[customer], to_owner=org.csm_a2, actor=org.leader_a)
    assessment = ChiAssessment.objects.get(campaign=chi_campaign, customer=customer)
    assert (assessment.csm_id, assessment.segment) == (org.csm_a.pk, "smb")


def test_existing_answers_are_backfilled_with_the_owner_when_they_were_given(org):
    # given an answer from a month ago, when Lucas owned the customer, and Beatriz its owner since last week
    customer = CustomerFactory(owner=org.csm_a2, segment="mid", plan_tier="business")
    now = timezone.now()
    OwnershipPeriod.objects.filter(customer=customer).delete()
    OwnershipPeriod.objects.create(
        customer=customer, owner=org.csm_a, started_at=now - timedelta(days=90), ended_at=now - timedelta(days=7)
    )
    OwnershipPeriod.objects.create(customer=customer, owner=org.csm_a2, started_at=now - timedelta(days=7))
    delivery = DeliveryFactory(
        campaign=make_campaign(actor=org.admin),
        contact=ContactFactory(customer=customer),
        sent_at=now - timedelta(days=31),
    )
    answer_record(delivery=delivery, score=6, now=now - timedelta(days=30))
    Response.objects.update(csm=None, segment="", plan_tier="")
    Delivery.objects.update(csm=None, segment="")

    # when the data migration runs
    importlib.import_module("surveys.migrations.0007_counted_for_backfill").backfill(apps, None)

    # then the answer and its delivery count for Lucas, with the customer's segment and plan
    response = Response.objects.get()
    assert (response.csm_id, response.segment, response.plan_tier) == (org.csm_a.pk, "mid", "business")
    assert Delivery.objects.get().csm_id == org.csm_a.pk


def test_rows_written_in_bulk_are_filled_in_once(org):
    # given an answer written without whom it counts for, as the demo's bulk rows are
    customer = CustomerFactory(owner=org.csm_a, segment="enterprise", plan_tier="business")
    delivery = DeliveryFactory(campaign=make_campaign(actor=org.admin), contact=ContactFactory(customer=customer))
    answer_record(delivery=delivery, score=9)
    Response.objects.update(csm=None, segment="", service_model="", plan_tier="")
    Delivery.objects.update(csm=None, segment="", service_model="", plan_tier="")

    # when the rows are filled in, twice
    filled = [counted_for_fill(), counted_for_fill()]

    # then both rows count for Lucas and the customer's segment and plan, and the second run found nothing
    assert filled == [2, 0]
    response = Response.objects.get()
    assert (response.csm_id, response.segment, response.plan_tier) == (org.csm_a.pk, "enterprise", "business")
    assert Delivery.objects.get().csm_id == org.csm_a.pk
