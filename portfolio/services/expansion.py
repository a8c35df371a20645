"""Expansion opportunities: upsell and cross-sell, won into the MRR ledger."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write
from accounts.models import User
from core import clock
from core.events import publish
from portfolio import events
from portfolio.models import (
    BILLING_MONTHS,
    ActivityKind,
    Customer,
    ExpansionOpportunity,
    OpportunityKind,
    OpportunityStage,
    Subscription,
)
from portfolio.services.subscriptions import subscription_change, subscription_create
from portfolio.services.timeline import activity_log


def opportunity_create(*, customer: Customer, actor: User, owner: User | None = None, **fields) -> ExpansionOpportunity:
    ensure_can_write(actor)
    opportunity = ExpansionOpportunity(
        customer=customer, owner=owner or customer.farmer or customer.owner or actor, **fields
    )
    opportunity.full_clean()
    opportunity.save()
    activity_log(
        customer=customer,
        kind=ActivityKind.EXPANSION,
        title=_("Expansion opportunity: %(title)s") % {"title": opportunity.title},
        author=actor,
        data={"opportunity": opportunity.pk},
    )
    return opportunity


@transaction.atomic
def opportunity_win(
    *,
    opportunity: ExpansionOpportunity,
    actor: User,
    effective_date: date,
    subscription: Subscription | None = None,
    product: str = "",
) -> Subscription:
    """A won upsell raises an existing subscription; a won cross-sell adds one. Either records expansion."""
    ensure_can_write(actor)
    if opportunity.stage in (OpportunityStage.WON, OpportunityStage.LOST):
        raise ValidationError(_("This opportunity is already closed."))
    if opportunity.kind == OpportunityKind.UPSELL:
        if subscription is None or subscription.customer_id != opportunity.customer_id:
            raise ValidationError({"subscription": _("Choose the subscription that grows.")})
        months = BILLING_MONTHS.get(subscription.billing_period, 1)
        result = subscription_change(
            subscription=subscription,
            actor=actor,
            effective_date=effective_date,
            amount_cents=subscription.amount_cents + opportunity.mrr_cents * months,
        )
    else:
        result = subscription_create(
            customer=opportunity.customer,
            product=product or opportunity.title,
            amount_cents=opportunity.mrr_cents,
            start_date=effective_date,
            actor=actor,
        )
    opportunity.stage = OpportunityStage.WON
    opportunity.closed_at = clock.now()
    opportunity.save(update_fields=["stage", "closed_at"])
    publish(
        events.OpportunityWon(
            customer_id=opportunity.customer_id,
            opportunity_id=opportunity.pk,
            kind=opportunity.kind,
            mrr_cents=opportunity.mrr_cents,
        )
    )
    return result


def opportunity_move(*, opportunity: ExpansionOpportunity, stage: str, actor: User) -> ExpansionOpportunity:
    ensure_can_write(actor)
    if stage not in OpportunityStage.values:
        raise ValidationError({"stage": _("%(stage)s is not a stage of an opportunity.") % {"stage": stage}})
    if stage == OpportunityStage.WON:
        raise ValidationError(_("Win an opportunity with its subscription change."))
    was_lost = opportunity.stage == OpportunityStage.LOST
    opportunity.stage = stage
    opportunity.closed_at = clock.now() if stage == OpportunityStage.LOST else None
    opportunity.save(update_fields=["stage", "closed_at"])
    if stage == OpportunityStage.LOST and not was_lost:
        publish(
            events.OpportunityLost(
                customer_id=opportunity.customer_id,
                opportunity_id=opportunity.pk,
                kind=opportunity.kind,
                mrr_cents=opportunity.mrr_cents,
            )
        )
    return opportunity
