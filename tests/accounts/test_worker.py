"""A task through a real Celery worker on the real Redis broker, delivering to a real SMTP server."""

import re

import pytest

from accounts import services
from accounts.models import Invitation


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
    invitation.refresh_from_db()
    assert invitation.sent_at is not None
    assert Invitation.objects.count() == 1
