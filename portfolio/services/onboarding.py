"""Onboarding: first value and first success milestones, and the handoff that ends it."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write
from accounts.models import OWNER_ROLES, User
from core import clock
from core.events import publish
from portfolio import events, ledger
from portfolio.models import (
    ActivityKind,
    Customer,
    Handoff,
    HandoffChannel,
    Milestone,
    MilestoneKind,
    Stage,
)
from portfolio.services.customers import _owner_change, _stage_change
from portfolio.services.policies import policy_for
from portfolio.services.reviews import review_schedule
from portfolio.services.timeline import activity_log


def milestone_achieve(*, milestone: Milestone, achieved_on: date, actor: User) -> Milestone:
    """The ISM marks a milestone reached on the day it was reached: time to first value is measured from it,
    so it may be a past day, never a future one, nor one before the customer started."""
    ensure_can_write(actor)
    if milestone.achieved_on is not None:
        raise ValidationError({"achieved_on": _("This milestone was already reached.")})
    if achieved_on > clock.today():
        raise ValidationError({"achieved_on": _("A milestone cannot be reached in the future.")})
    start_date = milestone.customer.start_date
    if start_date and achieved_on < start_date:
        raise ValidationError(
            {
                "achieved_on": _("A milestone cannot be reached before the customer started (%(date)s).")
                % {"date": date_format(start_date, "SHORT_DATE_FORMAT")}
            }
        )
    milestone.achieved_on = achieved_on
    milestone.save(update_fields=["achieved_on"])
    late = achieved_on > milestone.target_date
    activity_log(
        customer=milestone.customer,
        kind=ActivityKind.MILESTONE,
        title=(_("Milestone reached late: %(m)s") if late else _("Milestone reached: %(m)s")) % {"m": milestone.label},
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


def handoff_unreached_warning(customer: Customer, milestones: list[Milestone] | None = None) -> bool:
    """Whether handing the customer off now needs the ISM's explicit confirmation: neither first value nor
    first success was reached, and first value is already overdue. The handoff may still go ahead (no
    customer enters ongoing without one), but not without a word."""
    milestones = list(customer.milestones.all()) if milestones is None else milestones
    key = [m for m in milestones if m.kind in (MilestoneKind.FIRST_VALUE, MilestoneKind.FIRST_SUCCESS)]
    if not key or any(m.achieved_on for m in key):
        return False
    today = clock.today()
    return any(m.kind == MilestoneKind.FIRST_VALUE and m.target_date < today for m in key)


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
    confirm_unreached: bool = False,
) -> Handoff:
    """End onboarding: the ISM hands the customer to its ongoing CSM, and the first success review is
    scheduled by the service model's cadence. With first value and first success unreached and first value
    overdue it needs ``confirm_unreached`` (see :func:`handoff_unreached_warning`)."""
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
    if not confirm_unreached and handoff_unreached_warning(customer):
        errors["confirm_unreached"] = _(
            "First value and first success were not reached, and first value is overdue. "
            "Confirm that you hand the customer off anyway."
        )
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
