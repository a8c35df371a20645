"""Onboarding: first value and first success milestones, and the handoff that ends it."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write
from accounts.models import OWNER_ROLES, User
from core.events import publish
from portfolio import events, ledger
from portfolio.models import (
    ActivityKind,
    Customer,
    Handoff,
    HandoffChannel,
    Milestone,
    Stage,
)
from portfolio.services.customers import _owner_change, _stage_change
from portfolio.services.policies import policy_for
from portfolio.services.reviews import review_schedule
from portfolio.services.timeline import activity_log


def milestone_achieve(*, milestone: Milestone, achieved_on: date, actor: User) -> Milestone:
    ensure_can_write(actor)
    milestone.achieved_on = achieved_on
    milestone.save(update_fields=["achieved_on"])
    late = achieved_on > milestone.target_date
    activity_log(
        customer=milestone.customer,
        kind=ActivityKind.MILESTONE,
        title=(_("Milestone reached late: %(m)s") if late else _("Milestone reached: %(m)s"))
        % {"m": milestone.get_kind_display()},
        body=milestone.description,
        author=actor,
        data={"milestone": milestone.pk, "late": late},
    )
    publish(
        events.MilestoneReached(
            customer_id=milestone.customer_id,
            milestone_id=milestone.pk,
            kind=milestone.kind,
            achieved_on=achieved_on,
            target_date=milestone.target_date,
            late=late,
        )
    )
    return milestone


@transaction.atomic
def handoff_complete(
    *,
    customer: Customer,
    to_user: User,
    results: str,
    goals: str,
    stakeholders: str,
    channel: str,
    held_on: date,
    actor: User,
    risks: str = "",
) -> Handoff:
    """End onboarding: the ISM hands the customer to its ongoing CSM, and the first success review is
    scheduled by the service model's cadence."""
    ensure_can_write(actor)
    if customer.stage != Stage.ONBOARDING:
        raise ValidationError(_("Only a customer in onboarding can be handed off."))
    policy = policy_for(customer.service_model)
    errors = {}
    for field, value in (("results", results), ("goals", goals), ("stakeholders", stakeholders)):
        if not (value or "").strip():
            errors[field] = _("Say what the next CSM needs to know here.")
    if policy.handoff_by_meeting and channel != HandoffChannel.MEETING:
        errors["channel"] = _("High-touch customers are handed off in a meeting with the customer.")
    if to_user.role not in OWNER_ROLES:
        errors["to_user"] = _("Hand the customer to a CSM.")
    if errors:
        raise ValidationError(errors)
    handoff = Handoff.objects.create(
        customer=customer,
        from_user=customer.implementation_manager or actor,
        to_user=to_user,
        results=results,
        goals=goals,
        risks=risks,
        stakeholders=stakeholders,
        channel=channel,
        held_on=held_on,
    )
    if customer.owner_id != to_user.pk:
        _owner_change([customer], to_user, actor=actor, by_handoff=True)
    activity_log(
        customer=customer,
        kind=ActivityKind.HANDOFF,
        title=_("Handoff to %(csm)s (%(channel)s)") % {"csm": to_user, "channel": handoff.get_channel_display()},
        body=results,
        author=actor,
        data={"handoff": handoff.pk},
    )
    _stage_change(customer=customer, to=Stage.ONGOING, actor=actor)
    if policy.review_every_months:
        review_schedule(customer=customer, due_date=ledger.add_months(held_on, policy.review_every_months), actor=actor)
    publish(
        events.HandoffCompleted(
            customer_id=customer.pk, handoff_id=handoff.pk, from_user_id=handoff.from_user_id, to_user_id=to_user.pk
        )
    )
    return handoff
