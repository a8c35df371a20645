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


def test_a_cancellation_recorded_ahead_takes_effect_on_its_day(org):
    from portfolio.ledger import add_months, month_start

    today = timezone.localdate()
    customer = CustomerFactory(owner=org.csm_a, start_date=add_months(month_start(today), -3))
    subscription = subscribe(customer, amount_cents=100_000)
    services.subscription_cancel(subscription=subscription, actor=None, end_date=today + timedelta(days=1))
    customer.refresh_from_db()
    assert customer.mrr_cents == 100_000

    # when the daily job runs the day after the end date
    synced = services.ledger_sync_effective(today=today + timedelta(days=1))

    customer.refresh_from_db()
    assert synced == 1
    assert customer.mrr_cents == 0
