"""Planning a campaign's round: who gets a survey, and who is left out and why.

A campaign's round is planned before anything is sent: one ``Delivery`` row per person, inserted in bulk
with ON CONFLICT DO NOTHING against the (campaign, round, person) constraint, so planning twice plans nobody
twice. People who must not be emailed get a row too, ``skipped`` with its reason (no email, opted out,
bounced before, or surveyed by any campaign in the last ``campaign.fatigue_days``), so the campaign page can
say who was left out and why. Opt-outs, bounces and fatigue are checked again, per batch, just before
sending (``surveys.dispatch``). Whom a campaign reaches at all is ``surveys.audience``.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet, Subquery
from django.db.models.expressions import OuterRef
from django.utils import timezone

from accounts.models import User
from portfolio.models import Contact
from surveys import tokens
from surveys.audience import audience_contacts, audience_employees, audience_recipients, employees_audience
from surveys.models import (
    Campaign,
    CampaignMode,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    EmployeeAudience,
    EmployeeRecipient,
    SkipReason,
    SurveyKind,
)

logger = logging.getLogger(__name__)

PLAN_CHUNK = 2000


@dataclass
class PlanResult:
    """What planning put in: rows to send and rows skipped, by reason. A row that lost a race with a
    concurrent planner for the same person and round is counted here but was not inserted."""

    pending: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, other: "PlanResult") -> None:
        self.pending += other.pending
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count


def _recently_surveyed(contact_ids: list[int], *, since: datetime) -> set[int]:
    """Contacts emailed by any campaign since ``since``, or about to be by an active one: the fatigue rule."""
    about_to_be = Q(status=DeliveryStatus.PENDING, created_at__gte=since, campaign__status=CampaignStatus.ACTIVE)
    return set(
        Delivery.objects.filter(contact_id__in=contact_ids)
        .filter(Q(status=DeliveryStatus.SENT, sent_at__gte=since) | about_to_be)
        .values_list("contact_id", flat=True)
    )


def _with_last_round(campaign: Campaign, people: QuerySet, person_field: str) -> QuerySet:
    last = Delivery.objects.filter(campaign=campaign, **{person_field: OuterRef("pk")}).order_by("-round")
    return people.annotate(
        last_round=Subquery(last.values("round")[:1]), last_planned_at=Subquery(last.values("created_at")[:1])
    )


def _due_people(campaign: Campaign, people: QuerySet, person_field: str, now: datetime) -> QuerySet:
    """People due for a new round: never asked by a one-shot campaign, not asked for ``every_days`` by a
    recurring one; transactional campaigns ask again every time their event happens."""
    people = _with_last_round(campaign, people, person_field)
    if campaign.mode == CampaignMode.RECURRING:
        return people.filter(
            Q(last_round__isnull=True) | Q(last_planned_at__lte=now - timedelta(days=campaign.every_days or 0))
        )
    if campaign.mode == CampaignMode.TRANSACTIONAL:
        return people
    return people.filter(last_round__isnull=True)


def _insert(rows: list[Delivery], result: PlanResult) -> None:
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    for row in rows:
        if row.status == DeliveryStatus.PENDING:
            result.pending += 1
        else:
            result.skipped[row.skip_reason] = result.skipped.get(row.skip_reason, 0) + 1


# The customer's CSM, segment, service model and plan as they are when the survey goes out: the delivery counts
# for them in the response rates of the results' slices (see surveys.models._CountedFor).
_COUNTED_FOR = ("customer__owner_id", "customer__segment", "customer__service_model", "customer__plan_tier")


def plan_contacts(campaign: Campaign, contacts: QuerySet[Contact], now: datetime) -> PlanResult:
    result = PlanResult()
    fields = ("pk", "email", "language", "opted_out_at", "bounced_at", "customer_id", "last_round", *_COUNTED_FOR)
    due = _due_people(campaign, contacts, "contact", now).order_by("pk").values_list(*fields)
    chunk: list[tuple] = []
    for row in due.iterator(chunk_size=PLAN_CHUNK):
        chunk.append(row)
        if len(chunk) == PLAN_CHUNK:
            _plan_contact_chunk(campaign, chunk, now, result)
            chunk = []
    if chunk:
        _plan_contact_chunk(campaign, chunk, now, result)
    return result


def _skip_reason(contact_id: int, email: str, opted_out_at, bounced_at, fatigued: set[int]) -> str:
    """Why a contact due for a round is not emailed ("" when it is), in the order the page names them."""
    if not email:
        return SkipReason.NO_EMAIL
    if opted_out_at:
        return SkipReason.OPTED_OUT
    if bounced_at:
        return SkipReason.BOUNCED
    if contact_id in fatigued:
        return SkipReason.FATIGUE
    return ""


def _fatigued(campaign: Campaign, chunk: list[tuple], now: datetime) -> set[int]:
    if not campaign.fatigue_days:
        return set()
    return _recently_surveyed([row[0] for row in chunk], since=now - timedelta(days=campaign.fatigue_days))


def _chunks(rows, size: int = PLAN_CHUNK):
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def plan_preview(campaign: Campaign, now: datetime | None = None) -> PlanResult | None:
    """What planning the campaign's round now would do, without writing anything: how many would be emailed
    and how many skipped, by reason. The same due people and the same rules as :func:`campaign_plan`
    (opt-outs, bounces and fatigue are checked again at send time, so it is a forecast, not a promise).
    None for a transactional campaign: it plans nobody when it starts, only after each event."""
    now = now or timezone.now()
    if campaign.mode == CampaignMode.TRANSACTIONAL:
        return None
    result = PlanResult()
    if campaign.kind == SurveyKind.ENPS:
        audience = employees_audience(campaign)
        groups = []
        if audience in (EmployeeAudience.USERS, EmployeeAudience.BOTH):
            groups.append((audience_employees(campaign), "employee"))
        if audience in (EmployeeAudience.LIST, EmployeeAudience.BOTH):
            groups.append((audience_recipients(campaign), "recipient"))
        for people, person_field in groups:
            for (email,) in _due_people(campaign, people, person_field, now).values_list("email"):
                result.add(PlanResult(pending=1) if email else PlanResult(skipped={SkipReason.NO_EMAIL: 1}))
        return result
    fields = ("pk", "email", "opted_out_at", "bounced_at")
    due = _due_people(campaign, audience_contacts(campaign), "contact", now).order_by("pk").values_list(*fields)
    for chunk in _chunks(due.iterator(chunk_size=PLAN_CHUNK)):
        fatigued = _fatigued(campaign, chunk, now)
        for contact_id, email, opted_out_at, bounced_at in chunk:
            reason = _skip_reason(contact_id, email, opted_out_at, bounced_at, fatigued)
            if reason:
                result.skipped[reason] = result.skipped.get(reason, 0) + 1
            else:
                result.pending += 1
    return result


def _plan_contact_chunk(campaign: Campaign, chunk: list[tuple], now: datetime, result: PlanResult) -> None:
    fatigued = _fatigued(campaign, chunk, now)
    rows = []
    for contact_id, email, language, opted_out_at, bounced_at, customer_id, last_round, *counted_for in chunk:
        csm_id, segment, service_model, plan_tier = counted_for
        reason = _skip_reason(contact_id, email, opted_out_at, bounced_at, fatigued)
        salt, token_hash = tokens.salt_and_hash()
        rows.append(
            Delivery(
                campaign=campaign,
                round=(last_round or 0) + 1,
                contact_id=contact_id,
                customer_id=customer_id,
                csm_id=csm_id,
                segment=segment,
                service_model=service_model,
                plan_tier=plan_tier,
                email=email or "",
                language=language,
                token_salt=salt,
                token_hash=token_hash,
                status=DeliveryStatus.SKIPPED if reason else DeliveryStatus.PENDING,
                skip_reason=reason,
                created_at=now,
            )
        )
    _insert(rows, result)


def _plan_people(campaign: Campaign, people: QuerySet, field: str, now: datetime) -> PlanResult:
    """eNPS: one row per active person (a Leme user, ``field="employee"``, or someone of the imported list,
    ``field="recipient"``), in their language, with their team as it is now; no fatigue or opt-out, the
    employer asks its own people."""
    result = PlanResult()
    rows = []
    due = _due_people(campaign, people, field, now).order_by("pk")
    values = due.values_list("pk", "email", "language", "team_id", "last_round")
    for person_id, email, language, team_id, last_round in values:
        salt, token_hash = tokens.salt_and_hash()
        rows.append(
            Delivery(
                campaign=campaign,
                round=(last_round or 0) + 1,
                **{f"{field}_id": person_id},
                team_id=team_id,
                email=email,
                language=language,
                token_salt=salt,
                token_hash=token_hash,
                status=DeliveryStatus.PENDING if email else DeliveryStatus.SKIPPED,
                skip_reason="" if email else SkipReason.NO_EMAIL,
                created_at=now,
            )
        )
    _insert(rows, result)
    return result


def _plan_employees(campaign: Campaign, employees: QuerySet[User], now: datetime) -> PlanResult:
    return _plan_people(campaign, employees, "employee", now)


def _plan_recipients(campaign: Campaign, recipients: QuerySet[EmployeeRecipient], now: datetime) -> PlanResult:
    return _plan_people(campaign, recipients, "recipient", now)


def _plan_enps(campaign: Campaign, now: datetime) -> PlanResult:
    """eNPS asks Leme users, the imported list, or both; with both, a user who is also on the list is asked
    once (as the user: ``audience.audience_recipients`` leaves them out)."""
    result = PlanResult()
    audience = employees_audience(campaign)
    if audience in (EmployeeAudience.USERS, EmployeeAudience.BOTH):
        result.add(_plan_employees(campaign, audience_employees(campaign), now))
    if audience in (EmployeeAudience.LIST, EmployeeAudience.BOTH):
        result.add(_plan_recipients(campaign, audience_recipients(campaign), now))
    return result


@transaction.atomic
def campaign_plan(*, campaign_id: int, now: datetime | None = None) -> PlanResult | None:
    """Plan the due round of a "now", "at" or recurring campaign. None when the campaign has nothing to
    plan (not active, not yet time, transactional, or a one-shot round already planned).

    The campaign row is locked so two runs plan one after the other, the second finding nobody due."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.ACTIVE or campaign.mode == CampaignMode.TRANSACTIONAL:
        return None
    if campaign.mode in (CampaignMode.NOW, CampaignMode.AT) and campaign.last_run_at is not None:
        return None
    if campaign.mode == CampaignMode.AT and campaign.send_at and campaign.send_at > now:
        return None
    if campaign.kind == SurveyKind.ENPS:
        result = _plan_enps(campaign, now)
    else:
        result = plan_contacts(campaign, audience_contacts(campaign), now)
    campaign.last_run_at = now
    campaign.save(update_fields=["last_run_at"])
    logger.info("survey round planned", extra={"campaign_id": campaign.pk, "pending": result.pending})
    return result
