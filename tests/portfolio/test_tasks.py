from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from portfolio import services, tasks
from portfolio.models import ChurnKind
from tests.portfolio.factories import CustomerFactory, hand_off, subscribe

pytestmark = pytest.mark.django_db


def test_delinquency_escalation_task_opens_involuntary_requests_once(org, settings):
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    subscription = subscribe(customer)
    since = timezone.localdate() - timedelta(days=settings.LEME_DELINQUENCY_CHURN_DAYS + 1)
    services.subscription_mark_delinquent(subscription=subscription, since=since, actor=org.csm_a)

    assert tasks.delinquency_escalate.delay().get() == 1
    assert tasks.delinquency_escalate.delay().get() == 0
    request = customer.churn_requests.get()
    assert request.kind == ChurnKind.INVOLUNTARY
    assert request.reason.code == "invoice-unpaid"


def test_the_escalation_runs_every_morning():
    entry = app.conf.beat_schedule["portfolio.delinquency_escalate"]
    assert entry["task"] == "portfolio.tasks.delinquency_escalate"
    assert entry["schedule"].hour == {6}
