"""Playbook emails sent by real Celery workers on Redis to a real SMTP server, the first worker killed (SIGKILL)
in the middle of the send: every contact still gets exactly one email, and nobody is missed.

The waits follow the workers' progress: each polls the counts and gives up only when nothing moved for
90 seconds (a loaded machine sends slowly, it does not stop)."""

import time
from collections import Counter

import pytest

from playbooks import engine, tasks
from playbooks.models import EmailStatus, StepEmail
from tests.playbooks.factories import email_step, live_playbook
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.waiting import wait_while_progressing

CONTACTS = 60
RATE = 15  # emails a second: the send takes about four seconds on an idle machine
ALWAYS_OPEN = "1-7 00:00-23:59"  # the send window, so the test runs on any day at any hour


def sent_count() -> int:
    return StepEmail.objects.filter(status=EmailStatus.SENT).count()


@pytest.mark.worker
def test_a_worker_killed_mid_send_leaves_nobody_emailed_twice_or_missed(
    org, settings, smtp_server, celery_worker_process
):
    # given 60 customers in a playbook whose one step emails their user, each step run: 60 emails pending
    settings.LEME_PLAYBOOK_EMAIL_WINDOW = ALWAYS_OPEN
    inbox, email_url = smtp_server
    playbook = live_playbook(steps=[email_step()])
    contacts = []
    for customer in CustomerFactory.create_batch(CONTACTS, owner=org.csm_a):
        contacts.append(ContactFactory(customer=customer, role="user"))
        run = engine.enrol(playbook=playbook, customer_id=customer.pk)
        assert engine.run_advance(run.pk) == 1
    assert StepEmail.objects.filter(status=EmailStatus.PENDING).count() == CONTACTS

    # when a worker sending 15 emails a second is killed after some went out, between two emails (every email
    # the server took is recorded as sent; the documented window is the instant between the two)
    worker_env = {"EMAIL_URL": email_url, "LEME_SURVEY_SEND_RATE": str(RATE), "LEME_PLAYBOOK_EMAIL_WINDOW": ALWAYS_OPEN}
    first = celery_worker_process(worker_env)
    tasks.emails_send.delay()
    assert wait_while_progressing(lambda: 10 <= len(inbox.messages) == sent_count(), lambda: len(inbox.messages))
    first.kill()
    first.wait(10)
    sent_before = sent_count()
    assert 0 < sent_before < CONTACTS

    # and a new worker starts, and the beat's next send (twice, as a late copy would) finds what is pending
    celery_worker_process(worker_env)
    tasks.emails_send.delay()
    tasks.emails_send.delay()

    # then every contact got exactly one email, and every email is sent
    assert wait_while_progressing(lambda: sent_count() == CONTACTS, sent_count)
    assert wait_while_progressing(lambda: len(inbox.messages) >= CONTACTS, lambda: len(inbox.messages))
    time.sleep(0.5)  # room for a stray second copy to arrive, if there were one
    assert Counter(m["To"] for m in inbox.messages) == Counter({c.email: 1 for c in contacts})
    assert len({m["Message-ID"] for m in inbox.messages}) == CONTACTS
    assert set(StepEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert len(inbox.messages) > sent_before
