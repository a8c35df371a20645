"""What portfolio's own events bring about in portfolio: the notices of the bell. Each runs in a Celery task
after the event's transaction commits (``core.events``) and is safe to run twice.

The work those events call for comes from default playbooks (``playbooks.defaults``): the churn-request task
("Churn request", on ``ChurnRequestOpened``), the overdue-payment follow-up ("Overdue payment", on
``DelinquencyStarted``) and the UTI recovery month's check-ins ("UTI recovery month", on ``UtiEntered``).
:func:`uti_checkin_weeks` stays here for the tasks written before it (the demo's history).
"""

from core.events import subscriber
from portfolio import events
from portfolio.models import (
    ChurnRequest,
    NotificationKind,
    OwnershipPeriod,
    UtiStay,
)
from portfolio.services import notification_create


def uti_checkin_weeks(stay: UtiStay) -> int:
    """Weekly check-ins of a recovery month: one a week, the last week kept for the closing review (three in
    the 30-day month every service model has)."""
    return max(1, (stay.ends_on - stay.started_on).days // 7 - 1)


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
