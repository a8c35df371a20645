"""What the beat starts: campaigns whose round is due to be planned, and sends that stalled."""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from surveys.models import Campaign, CampaignMode, CampaignStatus, Delivery, DeliveryStatus

# Recurring campaigns look for contacts due again at most this often; rounds are days apart.
RECURRING_CHECK_EVERY = timedelta(hours=1)


def campaigns_due(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """For the beat: campaigns to plan now ("now" ones never planned, "at" ones whose time came, recurring
    ones not looked at for an hour), and the other active campaigns with due pending rows, whose send
    may have died with its worker (one that is still running keeps the lock; the new one then stops)."""
    now = now or timezone.now()
    active = Campaign.objects.filter(status=CampaignStatus.ACTIVE)
    to_plan = list(
        active.filter(
            Q(mode=CampaignMode.NOW, last_run_at__isnull=True)
            | Q(mode=CampaignMode.AT, last_run_at__isnull=True, send_at__lte=now)
            | Q(mode=CampaignMode.RECURRING, last_run_at__isnull=True)
            | Q(mode=CampaignMode.RECURRING, last_run_at__lte=now - RECURRING_CHECK_EVERY)
        ).values_list("pk", flat=True)
    )
    pending = (
        Delivery.objects.filter(campaign__status=CampaignStatus.ACTIVE, status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(campaign_id__in=to_plan)
        .order_by("campaign_id")
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    return to_plan, sorted(pending)
