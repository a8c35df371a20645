"""A survey campaign sent by real Celery workers on Redis to a real SMTP server, the first worker killed
in the middle of the send: every contact still gets exactly one email."""

import time
from collections import Counter

import pytest

from surveys import tasks
from surveys.models import Delivery, DeliveryStatus
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import active_campaign
from tests.waiting import wait_until, wait_while_progressing

CONTACTS = 60
RATE = 15  # emails a second: the send takes about four seconds


def sent_count() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.SENT).count()


@pytest.mark.worker
def test_a_worker_killed_mid_send_leaves_nobody_emailed_twice_or_missed(org, smtp_server, celery_worker_process):
    # given 60 contacts and a worker sending 15 emails a second
    inbox, email_url = smtp_server
    worker_env = {"EMAIL_URL": email_url, "LEME_SURVEY_SEND_RATE": str(RATE)}
    first = celery_worker_process(worker_env)
    customers = CustomerFactory.create_batch(3, owner=org.csm_a)
    contacts = [ContactFactory(customer=customers[n % 3]) for n in range(CONTACTS)]
    campaign = active_campaign()  # "send now": its run is queued on commit

    # when the worker is killed after some emails went out, between two emails (every email the server
    # took is recorded as sent; the documented window is the instant between the two)
    assert wait_until(lambda: 10 <= len(inbox.messages) == sent_count(), timeout=90)
    first.kill()
    first.wait(10)
    sent_before = sent_count()
    assert 0 < sent_before < CONTACTS

    # and a new worker starts, and the beat's next check finds the stalled send
    celery_worker_process(worker_env)
    tasks.campaigns_due.delay()

    # then every contact got exactly one email, and every delivery is sent
    assert wait_while_progressing(lambda: sent_count() == CONTACTS, sent_count)
    inbox.wait_for(CONTACTS, timeout=5)
    time.sleep(0.5)  # room for a stray second copy to arrive, if there were one
    assert Counter(m["To"] for m in inbox.messages) == Counter({c.email: 1 for c in contacts})
    assert len({m["Message-ID"] for m in inbox.messages}) == CONTACTS
    assert set(Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert len(inbox.messages) > sent_before
