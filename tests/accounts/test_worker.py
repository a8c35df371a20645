"""A task through a real Celery worker on the real Redis broker, delivering to a real SMTP server."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services, tasks
from accounts.models import Invitation
from tests.waiting import wait_until


@pytest.mark.worker
def test_invitation_email_is_sent_by_the_worker(org, smtp_server, celery_worker_process):
    inbox, email_url = smtp_server
    celery_worker_process({"EMAIL_URL": email_url})

    invitation = services.invitation_create(
        email="nova@empresa.com.br", role="csm", invited_by=org.admin, full_name="Nova Pessoa", language="en"
    )

    messages = inbox.wait_for(1, timeout=60)
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "nova@empresa.com.br"
    assert message["Subject"] == "You are invited to Leme"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert set(parts) == {"text/plain", "text/html"}
    assert re.search(r"http://testserver/invite/\S+/", parts["text/plain"])
    # The worker records the sending just after the server took the email.
    assert wait_until(lambda: Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=False).exists(), 10)
    assert Invitation.objects.count() == 1


@pytest.mark.worker
def test_the_worker_takes_nightly_work_from_its_own_queue(org, celery_worker_process):
    # given a failed-login record older than the clean-up keeps
    from axes.models import AccessAttempt

    celery_worker_process()
    old = AccessAttempt.objects.create(username="x@empresa.com.br", ip_address="10.0.0.1", failures_since_start=1)
    AccessAttempt.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - timedelta(days=40))

    # when the nightly clean-up is queued (it is routed to the nightly queue)
    tasks.access_attempts_clean.delay()

    # then the worker listening on that queue runs it
    assert wait_until(lambda: not AccessAttempt.objects.filter(pk=old.pk).exists(), timeout=60)


@pytest.mark.worker
def test_the_password_reset_link_is_made_by_the_worker(client, org, smtp_server, celery_worker_process):
    inbox, email_url = smtp_server
    celery_worker_process({"EMAIL_URL": email_url})

    response = client.post("/password/reset/", {"email": org.csm_a.email})

    assert response.status_code == 302
    messages = inbox.wait_for(1, timeout=60)
    assert [m["To"] for m in messages] == [org.csm_a.email]
    text = next(p for p in messages[0].walk() if p.get_content_type() == "text/plain").get_payload(decode=True)
    link = re.search(r"http://testserver(/password/reset/\S+/)", text.decode()).group(1)
    assert client.get(link, follow=True).status_code == 200
