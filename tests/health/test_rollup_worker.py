"""A usage batch posted through the API is rolled up by a real Celery worker on Redis, after the ingest
commits: one UsageDay per customer and day, its counts those of the batch, even when the rollup job is
delivered twice (a redelivery after a lost acknowledgement, a late copy)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import TokenScope
from core import clock
from health import tasks
from health.models import UsageDay, UsageEvent
from tests.portfolio.factories import CustomerFactory
from tests.waiting import wait_until

URL = "/api/v1/usage-events/"


@pytest.mark.worker
def test_the_worker_rolls_up_a_posted_batch_once_even_when_the_job_comes_twice(org, celery_worker_process):
    # given a worker, an integration token and two customers
    celery_worker_process()
    _token, key = account_services.api_token_create(
        user=org.admin, name="Eventos do produto", actor=org.admin, scope=TokenScope.USAGE_EVENTS
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    padaria, oficina, sentinel = (CustomerFactory(owner=org.csm_a) for _ in range(3))
    yesterday = timezone.localtime(clock.now() - timedelta(days=1)).replace(hour=14, minute=0, second=0)
    day = yesterday.date()
    batch = [
        {
            "event_id": f"evt-{n}",
            "customer": who.pk,
            "user_id": f"u-{n % 3}",
            "event": name,
            "timestamp": yesterday.isoformat(),
        }
        for n, (who, name) in enumerate(
            [(padaria, "login")] * 4 + [(padaria, "report.created")] * 2 + [(oficina, "invoice.sent")] * 3
        )
    ]

    # when the batch is posted (the ingest queues its rollup after commit), and posted again (nothing new)
    assert client.post(URL, {"events": batch}, format="json").status_code == 201
    assert client.post(URL, {"events": batch}, format="json").json()["created"] == 0
    # and the same job is delivered a second time, then a last job whose row says the queue got that far
    tasks.usage_rollup_days.delay(days=[day.isoformat()], customer_ids=sorted([padaria.pk, oficina.pk]))
    UsageEvent.objects.create(
        customer=sentinel, source_id="evt-sentinel", user_ref="u-9", name="login", occurred_at=yesterday
    )
    tasks.usage_rollup_days.delay(days=[day.isoformat()], customer_ids=[sentinel.pk])

    # then the worker did every job (one at a time, in order: the last one's row is there)
    assert wait_until(lambda: UsageDay.objects.filter(customer=sentinel).exists(), timeout=60)
    # and each customer's day is there once, with the batch's counts, not twice them
    rows = {
        row.customer_id: (row.day, row.active_users, row.events, row.events_by_name)
        for row in UsageDay.objects.filter(customer__in=[padaria, oficina])
    }
    assert rows == {
        # users u-0, u-1, u-2 among events 0–5; events 6–8 are u-0, u-1, u-2 again
        padaria.pk: (day, 3, 6, {"login": 4, "report.created": 2}),
        oficina.pk: (day, 3, 3, {"invoice.sent": 3}),
    }
    assert UsageDay.objects.filter(customer__in=[padaria, oficina]).count() == 2
