"""Background jobs about people. Each takes ids, calls a service and retries transient failures."""

import smtplib
from datetime import timedelta

from celery import shared_task
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from accounts import services

TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError)


@shared_task(
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def invitation_send(invitation_id: int) -> bool:
    """Email an invitation. Safe twice: an accepted or withdrawn invitation is not sent again."""
    return services.invitation_send(invitation_id=invitation_id)


@shared_task(
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def email_send(*, subject: str, body: str, to: list[str], html: str | None = None) -> None:
    """Send an already rendered email (password reset links), off the request."""
    message = EmailMultiAlternatives(subject=subject, body=body, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


@shared_task
def access_attempts_clean(days: int = 30) -> int:
    """Forget failed-login records older than ``days``; recent ones keep the rate limit working."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    cutoff = timezone.now() - timedelta(days=days)
    deleted = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()[0]
    deleted += AccessLog.objects.filter(attempt_time__lt=cutoff).delete()[0]
    deleted += AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[0]
    return deleted
