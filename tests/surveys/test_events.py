"""What surveys announce: answers, detractors and bounces, after commit; eNPS without any person."""

import pytest
from django.utils import timezone

from core.events import recorded
from playbooks.models import Run
from portfolio.models import Task
from surveys import answers, dispatch, events
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def nps_delivery(org):
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a), name="Ana Souza")
    delivery, _ = make_delivery(make_campaign("nps"), contact=contact)
    return delivery


def test_a_detractor_answer_is_announced_and_its_subscriber_creates_the_follow_up(nps_delivery, committed):
    # given
    delivery = nps_delivery

    # when
    with recorded() as announced, committed():
        response = answers.answer_record(delivery=delivery, score=3, comment="Suporte lento")

    # then
    answered_on = timezone.localdate(response.answered_at)
    assert announced == [
        events.SurveyAnswerRecorded(
            response_id=response.pk,
            campaign_id=delivery.campaign_id,
            kind="nps",
            score=3,
            previous_score=None,
            customer_id=delivery.customer_id,
            contact_id=delivery.contact_id,
            answered_on=answered_on,
        ),
        events.DetractorAnswered(
            response_id=response.pk,
            campaign_id=delivery.campaign_id,
            kind="nps",
            score=3,
            customer_id=delivery.customer_id,
            contact_id=delivery.contact_id,
            answered_on=answered_on,
        ),
    ]
    # the "Detractor recovery" playbook listens: its run, keyed by the answer, gives the follow-up
    run = Run.objects.get(playbook__key="detractor-recovery", trigger_key=f"detractor:{response.pk}")
    task = Task.objects.get(origin_key=f"playbook:{run.pk}:0")
    assert (task.origin, task.customer_id) == ("playbook", delivery.customer_id)


def test_a_promoter_is_announced_as_an_answer_only(nps_delivery, committed):
    with recorded() as announced, committed():
        answers.answer_record(delivery=nps_delivery, score=10)

    assert [type(e) for e in announced] == [events.SurveyAnswerRecorded]


def test_an_enps_answer_is_announced_without_a_person_or_customer(org, committed):
    delivery, _ = make_delivery(make_campaign("enps"), employee=org.csm_a)

    with recorded() as announced, committed():
        answers.answer_record(delivery=delivery, score=2)

    assert [(type(e), e.customer_id, e.contact_id) for e in announced] == [(events.SurveyAnswerRecorded, None, None)]


def test_a_bounce_is_announced_once(nps_delivery, committed):
    with recorded() as announced, committed():
        dispatch.delivery_bounce(nps_delivery, error="550 5.1.1 user unknown", reminder=False)
        dispatch.delivery_bounce(nps_delivery, error="550 5.1.1 user unknown", reminder=False)

    assert announced == [
        events.DeliveryBounced(
            delivery_id=nps_delivery.pk,
            campaign_id=nps_delivery.campaign_id,
            contact_id=nps_delivery.contact_id,
            customer_id=nps_delivery.customer_id,
        )
    ]
