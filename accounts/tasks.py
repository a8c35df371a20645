"""Background jobs about people. Each takes ids, calls accounts.emails or a clean-up, and retries transient
failures. Nothing here imports accounts.services: the services queue these tasks, never the other way round."""

import smtplib
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts import emails, outbox

TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError)
EMAIL_RETRY = {
    "autoretry_for": TRANSIENT_EMAIL_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(**EMAIL_RETRY)
def invitation_send(invitation_id: int) -> bool:
    """Email an invitation. Safe twice: an accepted or withdrawn invitation is not sent again."""
    return emails.invitation_send(invitation_id=invitation_id)


@shared_task(**EMAIL_RETRY)
def password_reset_send(user_id: int) -> bool:
    """Email a password reset link. The link is made here, from the id: it never travels through the broker."""
    return emails.password_reset_send(user_id=user_id)


@shared_task
def access_attempts_clean(days: int = 30) -> int:
    """Forget failed-login records older than ``days``; recent ones keep the rate limit working."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    cutoff = timezone.now() - timedelta(days=days)
    deleted = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()[0]
    deleted += AccessLog.objects.filter(attempt_time__lt=cutoff).delete()[0]
    deleted += AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[0]
    return deleted


@shared_task
def outbox_flush() -> dict:
    """Beat, every minute: queue again the jobs kept while the broker was unreachable (accounts.outbox)."""
    return outbox.flush().summary()
