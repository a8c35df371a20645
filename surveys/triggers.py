"""Surveys sent when something happens: a transactional campaign surveys a customer's contacts after the
event it is set on (a handoff, a success review; ``surveys.subscribers`` hears them from portfolio), or one
contact at a time through the API's trigger (say, after a support ticket). Each plans its rows with the same
rules as every round (``surveys.planning``) and queues the send once the planning commits."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import jobs
from portfolio.models import Contact
from portfolio.selectors import customers_of_team
from surveys.audience import audience_contacts
from surveys.models import Campaign, CampaignMode, CampaignStatus, Delivery, DeliveryStatus, SurveyKind
from surveys.planning import PlanResult, plan_contacts
from surveys.tasks import deliveries_send


def send_transactional(*, trigger: str, customer_id: int) -> PlanResult:
    """An event happened to a customer (handoff, success review): every active transactional campaign
    on that trigger surveys the customer's contacts in its audience, subject to the fatigue and opt-out
    rules, and the send is queued once this commits."""
    now = timezone.now()
    total = PlanResult()
    campaigns = Campaign.objects.filter(
        status=CampaignStatus.ACTIVE, mode=CampaignMode.TRANSACTIONAL, trigger=trigger
    ).exclude(kind=SurveyKind.ENPS)
    for campaign in campaigns:
        with transaction.atomic():
            locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
            result = plan_contacts(locked, audience_contacts(locked).filter(customer_id=customer_id), now)
            if result.pending:
                jobs.queue_on_commit(deliveries_send, campaign.pk)
        total.add(result)
    return total


@transaction.atomic
def send_to_contact(*, campaign: Campaign, contact: Contact) -> Delivery:
    """Survey one contact now through an active transactional campaign (the API's trigger, e.g. after a
    support ticket), subject to the same rules as every send. Returns the new delivery: pending (sent once
    this commits) or skipped with its reason (a second call inside the fatigue window is skipped as
    fatigue). Calls for one campaign take turns on the campaign's row, so each gets its own round.
    Raises ValidationError for a campaign that is not an active transactional one."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.ACTIVE:
        raise ValidationError(_("This campaign is not active."))
    if campaign.mode != CampaignMode.TRANSACTIONAL or campaign.kind == SurveyKind.ENPS:
        raise ValidationError(_("Only a campaign sent when an event happens can survey one contact."))
    contacts = Contact.objects.filter(pk=contact.pk)
    if campaign.team_id is not None and not contacts.filter(customer__in=customers_of_team(campaign.team_id)).exists():
        raise ValidationError(_("This contact is not a customer's of the campaign's team."))
    plan_contacts(campaign, contacts, timezone.now())
    delivery = Delivery.objects.filter(campaign=campaign, contact=contact).order_by("-round").first()
    if delivery.status == DeliveryStatus.PENDING:
        jobs.queue_on_commit(deliveries_send, campaign.pk)
    return delivery
