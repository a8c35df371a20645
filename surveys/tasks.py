"""Survey jobs. Each takes ids, calls surveys.planning, surveys.dispatch, surveys.reminders or
surveys.scheduling and re-queues itself while work is left; the guarantees (nobody twice, nobody missed)
live in surveys.dispatch, not here."""

import logging

from celery import shared_task

from core.mail.smtp import TRANSIENT_SMTP_ERRORS
from surveys import dispatch, planning, reminders, scheduling, tallies

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": TRANSIENT_SMTP_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


def _eager() -> bool:
    # Eager mode (the embedded run, most tests) has no clock to wait on: a task "scheduled" for later
    # would run at once, find nothing due and schedule itself again, forever. The beat's sweep sends
    # those rows when there is a beat; otherwise they wait for the next send of the campaign.
    return bool(deliveries_send.app.conf.task_always_eager)


@shared_task
def campaign_run(campaign_id: int) -> dict | None:
    """Plan the campaign's due round ("now", "at" or recurring), then send what is pending."""
    result = planning.campaign_plan(campaign_id=campaign_id)
    deliveries_send.delay(campaign_id)
    return None if result is None else {"pending": result.pending, "skipped": result.skipped}


@shared_task(**RETRY)
def deliveries_send(campaign_id: int) -> dict:
    """Send a campaign's pending deliveries in batches; queue the rest for a fresh run."""
    result = dispatch.deliveries_send_pending(campaign_id=campaign_id)
    if result.more_due:
        deliveries_send.delay(campaign_id)
    elif result.retry_at is not None and not _eager():
        deliveries_send.apply_async((campaign_id,), eta=result.retry_at)
    return result.summary()


@shared_task(**RETRY)
def reminders_send() -> dict:
    """Remind the people who have not answered (beat, hourly)."""
    result = reminders.reminders_send_due()
    if result.more_due:
        reminders_send.delay()
    return result.summary()


@shared_task
def campaigns_due() -> dict:
    """Beat, every few minutes: start the campaigns whose time has come, and restart stalled sends."""
    to_plan, to_send = scheduling.campaigns_due()
    for campaign_id in to_plan:
        campaign_run.delay(campaign_id)
    for campaign_id in to_send:
        deliveries_send.delay(campaign_id)
    if to_plan or to_send:
        logger.info("survey campaigns queued", extra={"planned": len(to_plan), "sending": len(to_send)})
    return {"plan": to_plan, "send": to_send}


@shared_task
def tallies_rebuild() -> dict:
    """Beat, every five minutes: count the customer surveys again for the results of large scopes."""
    return tallies.rebuild()
