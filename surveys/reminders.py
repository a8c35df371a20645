"""One reminder to each person who has not answered a few days after their survey went out.

Reminders go through the same run as the surveys (``surveys.dispatch.SurveyRun``: pace, budget, refusals),
one run at a time for every campaign (an advisory lock); each row is claimed in its own short transaction,
which re-checks the answer and the opt-out at the last moment and commits ``reminded_at`` right after the
server's "250", so a reminder goes once. Its Message-ID is the delivery's with ``-reminder``."""

import logging
import time
from datetime import datetime, timedelta
from functools import partial

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.locks import exclusive
from core.mail.smtp import run_budget_seconds
from surveys.audience import deliveries_in_team
from surveys.dispatch import SendResult, SurveyRun, claimed, next_batch
from surveys.messages import SurveyEmails
from surveys.models import Campaign, CampaignStatus, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

# pg_try_advisory_lock(class, id) namespace: one reminder run at a time (campaign sends: dispatch.SEND_LOCK).
REMIND_LOCK = 0x5E4E


def _reminders_due(campaign: Campaign, now: datetime) -> QuerySet[Delivery]:
    """Sent, not answered, not reminded, link still valid, the person still reachable."""
    return (
        Delivery.objects.filter(
            campaign=campaign,
            status=DeliveryStatus.SENT,
            reminded_at__isnull=True,
            sent_at__lte=now - timedelta(days=campaign.reminder_after_days),
            response__isnull=True,
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(Q(contact__isnull=True) | Q(contact__opted_out_at__isnull=True, contact__bounced_at__isnull=True))
        .filter(Q(employee__isnull=True) | Q(employee__is_active=True))
        .filter(Q(recipient__isnull=True) | Q(recipient__active=True))
        .filter(deliveries_in_team(campaign))
    )


def _claim_reminder(campaign: Campaign, delivery_id: int, now: datetime) -> bool:
    """Lock the row if it still wants its reminder: the answer and the opt-out are checked again here."""
    return claimed(_reminders_due(campaign, now).filter(pk=delivery_id))


def reminders_send_due(*, now: datetime | None = None, budget_seconds: float | None = None) -> SendResult:
    """One reminder to each person who has not answered ``reminder_after_days`` after the survey went out
    (0 days: the campaign sends no reminders). ``reminded_at`` makes it once; the claim re-checks the
    answer and the opt-out at the last moment. A temporary refusal is tried again on the next run."""
    clock = (lambda: now) if now else timezone.now
    with exclusive(REMIND_LOCK, 0) as acquired:
        if not acquired:
            return SendResult(busy=True)
        budget = budget_seconds or run_budget_seconds()
        result = SendResult()
        campaigns = Campaign.objects.filter(status=CampaignStatus.ACTIVE, reminder_after_days__gt=0).order_by("pk")
        for campaign in campaigns:
            run = SurveyRun(emails=SurveyEmails(campaign), clock=clock, budget=budget)
            run.result = result
            cursor = 0
            while not run.out_of_time:
                batch = next_batch(_reminders_due(campaign, clock()), after=cursor)
                if not batch:
                    break
                cursor = batch[-1].pk
                run.open()
                try:
                    for delivery in batch:
                        if run.out_of_time:
                            break
                        run.send(delivery, partial(_claim_reminder, campaign, delivery.pk), reminder=True)
                finally:
                    run.close()
            budget = max(0.0, run.deadline - time.monotonic())
            if run.out_of_time:
                result.more_due = True
                break
    logger.info("survey reminder run", extra=result.summary())
    return result
