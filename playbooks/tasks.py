"""The beat's playbook jobs: advancing due steps every few minutes, the daily date triggers, and sending the
playbook emails that are due."""

from celery import shared_task

from core.mail.smtp import TRANSIENT_SMTP_ERRORS
from playbooks import engine, mailing


@shared_task(name="playbooks.tasks.runs_advance")
def runs_advance() -> int:
    """Run every step that is due (each in its own transaction; safe to run twice or after a crash)."""
    steps = engine.runs_advance_due()
    if steps:
        emails_send.delay()
    return steps


@shared_task(name="playbooks.tasks.date_triggers_check")
def date_triggers_check() -> int:
    """Enrol the customers the date-relative triggers reach today, then run their first steps."""
    enrolled = engine.date_triggers_check()
    if enrolled:
        runs_advance.delay()
    return enrolled


@shared_task(
    name="playbooks.tasks.emails_send",
    autoretry_for=TRANSIENT_SMTP_ERRORS,
    retry_backoff=60,
    retry_backoff_max=15 * 60,
    max_retries=8,
)
def emails_send() -> dict:
    """Send the playbook emails that are due (one sender at a time; safe to run twice or after a crash); again
    at once while more are due. Emails waiting for the window or a retry are picked up by the beat."""
    result = mailing.emails_send_pending()
    if result.more_due and not result.busy:
        emails_send.delay()
    return {"sent": result.sent, "held": result.held, "bounced": result.bounced, "busy": result.busy}
