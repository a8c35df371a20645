"""The work portfolio's own events create: the churn-request task and the overdue payment follow-up. Each
runs in a Celery task after the event's transaction commits (``core.events``), is safe to run twice (every
task has an ``origin_key``) and does nothing once the reason for it is gone.

The UTI recovery month's check-ins come from the "UTI recovery month" playbook (it listens to
``UtiEntered``); :func:`uti_checkin_weeks` stays here for the tasks written before it (the demo's history).
"""

from datetime import timedelta

from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from core import clock
from core.events import subscriber
from portfolio import events
from portfolio.models import (
    ChurnOutcome,
    ChurnRequest,
    Customer,
    NotificationKind,
    OwnershipPeriod,
    Subscription,
    SubscriptionStatus,
    UtiStay,
)
from portfolio.services import notification_create, task_create


def _language(owner: User) -> translation.override:
    # A task is read by its owner: write its title in their language, not the publisher's.
    return translation.override(owner.language or None)


@subscriber(events.ChurnRequestOpened)
def churn_request_task(event: events.ChurnRequestOpened) -> None:
    """The customer's owner (or ISM) works an open churn request today."""
    request = ChurnRequest.objects.select_related("customer__owner", "customer__implementation_manager").get(
        pk=event.churn_request_id
    )
    customer = request.customer
    owner = customer.owner or customer.implementation_manager
    if owner is None or request.outcome != ChurnOutcome.OPEN:
        return
    with _language(owner):
        task_create(
            customer=customer,
            owner=owner,
            title=_("Work the churn request of %(customer)s") % {"customer": customer},
            due_date=clock.today(),
            origin="churn_request",
            origin_key=f"churn_request:{request.pk}",
        )


def uti_checkin_weeks(stay: UtiStay) -> int:
    """Weekly check-ins of a recovery month: one a week, the last week kept for the closing review (three in
    the 30-day month every service model has)."""
    return max(1, (stay.ends_on - stay.started_on).days // 7 - 1)


@subscriber(events.DelinquencyStarted)
def delinquency_task(event: events.DelinquencyStarted) -> None:
    """The owner (or ISM) follows up an overdue payment the next day, while it is still overdue."""
    subscription = Subscription.objects.filter(
        pk=event.subscription_id, status=SubscriptionStatus.DELINQUENT, delinquent_since=event.since
    ).first()
    if subscription is None:
        return
    customer = Customer.objects.select_related("owner", "implementation_manager").get(pk=event.customer_id)
    owner = customer.owner or customer.implementation_manager
    if owner is None:
        return
    with _language(owner):
        task_create(
            customer=customer,
            owner=owner,
            title=_("Follow up the overdue payment of %(customer)s") % {"customer": customer},
            due_date=clock.today() + timedelta(days=1),
            origin="delinquency",
            origin_key=f"delinquency:{subscription.pk}:{event.since.isoformat()}",
        )


# --- The bell -------------------------------------------------------------------------------------------
# What happened to a person's customers, for the bell in the top bar (portfolio.services.notifications):
# each notice is keyed by the occurrence, so a redelivered event tells nobody twice.


@subscriber(events.ChurnRequestOpened)
def notify_churn_request(event: events.ChurnRequestOpened) -> None:
    """The customer's owner (or, before a handoff, its ISM) hears of a churn request someone else opened."""
    request = ChurnRequest.objects.select_related("customer").filter(pk=event.churn_request_id).first()
    if request is None:
        return
    customer = request.customer
    notification_create(
        recipient_id=customer.owner_id or customer.implementation_manager_id,
        customer_id=event.customer_id,
        kind=NotificationKind.CHURN_REQUEST,
        origin_key=f"churn_request:{request.pk}",
        actor_id=request.opened_by_id,
        facts={"kind": event.kind, "mrr_at_risk_cents": event.mrr_at_risk_cents},
    )


@subscriber(events.OwnerChanged)
def notify_reassigned(event: events.OwnerChanged) -> None:
    """The new owner hears that a customer is theirs now. A handoff tells them through its own notice."""
    if event.by_handoff:
        return
    # The ownership period the reassignment opened names the occurrence; none open for this owner: the customer
    # moved on again before this ran, and the notice would send them to a customer no longer theirs.
    period = (
        OwnershipPeriod.objects.filter(customer_id=event.customer_id, owner_id=event.to_owner_id, ended_at__isnull=True)
        .only("pk")
        .first()
    )
    if period is None:
        return
    notification_create(
        recipient_id=event.to_owner_id,
        customer_id=event.customer_id,
        kind=NotificationKind.REASSIGNED,
        origin_key=f"owner:{period.pk}",
        actor_id=event.actor_id,
        facts={"from_owner_id": event.from_owner_id},
    )


@subscriber(events.HandoffCompleted)
def notify_handoff(event: events.HandoffCompleted) -> None:
    """The CSM who receives an onboarded customer hears of the handoff."""
    notification_create(
        recipient_id=event.to_user_id,
        customer_id=event.customer_id,
        kind=NotificationKind.HANDOFF,
        origin_key=f"handoff:{event.handoff_id}",
        actor_id=event.from_user_id,
    )
