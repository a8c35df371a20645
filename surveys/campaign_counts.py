"""What the campaign pages count: the campaign list with each campaign's sends, answers and score, and where
each survey of one campaign went (sent, bounced, skipped and why). A few queries whatever the size, from the
tallies for users who see many customers (see ``surveys.results``)."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from accounts.access import visible_filter
from accounts.models import User
from surveys import scoring, tallies
from surveys.models import AnswerTally, Campaign, Delivery, DeliveryStatus, DeliveryTally, SkipReason, SurveyKind
from surveys.results import counts_by, tally_build_for
from surveys.scoring import ENPS, Summary, summarise
from surveys.selectors import (
    campaigns_visible_to,
    customer_deliveries,
    customer_responses,
    deliveries_of,
    enps_deliveries,
    enps_responses,
)
from surveys.selectors_chi import chi_counts_by, chi_scores


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    planned: int
    sent: int
    answered: int
    summary: Summary

    @property
    def rate(self) -> Decimal | None:
        return scoring.pct(self.answered, self.sent)


def _delivery_counts_by_campaign(deliveries: QuerySet[Delivery]) -> dict[int, dict]:
    rows = (
        deliveries.order_by()
        .values("campaign_id")
        .annotate(
            planned=Count("pk"),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            answered=Count("pk", filter=Q(sent_at__isnull=False, response__isnull=False)),
        )
    )
    return {row["campaign_id"]: row for row in rows}


def _tallied_by_campaign(user: User, ids: list[int]) -> dict[int, dict]:
    rows = (
        DeliveryTally.objects.filter(visible_filter(user, people=tallies.PEOPLE), campaign_id__in=ids)
        .order_by()
        .values("campaign_id")
        .annotate(planned=Sum("planned"), sent=Sum("sent"), answered=Sum("answered"))
    )
    return {row["campaign_id"]: row for row in rows}


def campaign_list(user: User, *, kind: str = "", status: str = "") -> list[CampaignRow]:
    """Campaigns with their counts and score, as far as the user sees them: a few queries whatever the size
    (three, two more with eNPS campaigns, one more with CHI ones), from the tallies for large scopes."""
    campaigns = campaigns_visible_to(user)
    if kind:
        campaigns = campaigns.filter(kind=kind)
    if status:
        campaigns = campaigns.filter(status=status)
    campaigns = list(campaigns.select_related("team").order_by("-created_at", "-pk"))
    customer_ids = [c.pk for c in campaigns if c.kind in tallies.KINDS]  # every kind but eNPS
    enps_ids = [c.pk for c in campaigns if c.kind == ENPS]
    chi_ids = [c.pk for c in campaigns if c.kind == SurveyKind.CHI]
    build = tally_build_for(user) if customer_ids else None
    if build is None:
        by_campaign = _delivery_counts_by_campaign(customer_deliveries(user).filter(campaign_id__in=customer_ids))
        counts = counts_by(
            customer_responses(user).filter(campaign_id__in=[pk for pk in customer_ids if pk not in chi_ids]),
            "campaign_id",
        )
        if chi_ids:
            counts.update(chi_counts_by(chi_scores(user, campaign_ids=chi_ids), "campaign_id"))
    else:
        by_campaign = _tallied_by_campaign(user, customer_ids)
        visible = visible_filter(user, people=tallies.PEOPLE)
        counts = defaultdict(dict)
        for row in (
            AnswerTally.objects.filter(visible, campaign_id__in=customer_ids)
            .order_by()
            .values("campaign_id", "score")
            .annotate(n=Sum("answers"))
        ):
            counts[(row["campaign_id"],)][row["score"]] = row["n"]
    if enps_ids:
        by_campaign.update(_delivery_counts_by_campaign(enps_deliveries(user).filter(campaign_id__in=enps_ids)))
        counts.update(counts_by(enps_responses(user).filter(campaign_id__in=enps_ids), "campaign_id"))
    rows = []
    for campaign in campaigns:
        row = by_campaign.get(campaign.pk, {"planned": 0, "sent": 0, "answered": 0})
        rows.append(
            CampaignRow(
                campaign=campaign,
                planned=row["planned"],
                sent=row["sent"],
                answered=row["answered"],
                summary=summarise(campaign.kind, counts.get((campaign.pk,), {}), scale_top=campaign.scale_top),
            )
        )
    return rows


@dataclass(frozen=True)
class DeliveryCounts:
    planned: int
    pending: int
    sent: int
    failed: int
    bounced: int
    skipped: int
    answered: int
    skipped_by_reason: list[tuple[str, str, int]]

    @property
    def rate(self) -> Decimal | None:
        return scoring.pct(self.answered, self.sent)


def delivery_counts(user: User, campaign: Campaign) -> DeliveryCounts:
    """Where each survey of a campaign went, in one query."""
    reasons = {
        f"skip_{reason}": Count("pk", filter=Q(status=DeliveryStatus.SKIPPED, skip_reason=reason))
        for reason in SkipReason.values
    }
    deliveries = deliveries_of(user, campaign.kind)
    row = (
        deliveries.filter(campaign=campaign)
        .order_by()
        .aggregate(
            planned=Count("pk"),
            pending=Count("pk", filter=Q(status=DeliveryStatus.PENDING)),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
            bounced=Count("pk", filter=Q(status=DeliveryStatus.BOUNCED)),
            skipped=Count("pk", filter=Q(status=DeliveryStatus.SKIPPED)),
            answered=Count("pk", filter=Q(sent_at__isnull=False, response__isnull=False)),
            **reasons,
        )
    )
    return DeliveryCounts(
        planned=row["planned"],
        pending=row["pending"],
        sent=row["sent"],
        failed=row["failed"],
        bounced=row["bounced"],
        skipped=row["skipped"],
        answered=row["answered"],
        skipped_by_reason=[
            (r, SkipReason(r).label, row[f"skip_{r}"])
            for r in SkipReason.values
            # Rows outside the campaign's team only exist when something went wrong: named when there are some.
            if r != SkipReason.OUTSIDE_TEAM or row[f"skip_{r}"]
        ],
    )


def skipped_deliveries(user: User, campaign: Campaign, *, limit: int = 50) -> list[Delivery]:
    """Who was not surveyed and why. Never for eNPS: the list would name employees beside the survey."""
    if campaign.kind == ENPS:
        return []
    return list(
        customer_deliveries(user)
        .filter(campaign=campaign, status=DeliveryStatus.SKIPPED)
        .select_related("contact", "customer")
        .order_by("skip_reason", "pk")[:limit]
    )
