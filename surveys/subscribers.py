"""What surveys do when something happens, each in a Celery task after commit (``core.events``):
transactional campaigns send after a handoff or a success review; a logged touch closes the loop on a
detractor's answer. Each is safe to run twice. (A detractor's follow-up task comes from the "Detractor
recovery" playbook, which listens to ``DetractorAnswered``.)"""

from core.events import subscriber
from portfolio import events as portfolio_events
from portfolio.models import Customer, NotificationKind
from portfolio.services import notification_create
from surveys import events
from surveys.answers import loop_close_on_touch
from surveys.triggers import send_transactional


@subscriber(portfolio_events.HandoffCompleted)
def survey_after_handoff(event: portfolio_events.HandoffCompleted) -> None:
    send_transactional(trigger="handoff", customer_id=event.customer_id)


@subscriber(portfolio_events.ReviewCompleted)
def survey_after_review(event: portfolio_events.ReviewCompleted) -> None:
    send_transactional(trigger="review", customer_id=event.customer_id)


@subscriber(portfolio_events.TouchLogged)
def loop_close(event: portfolio_events.TouchLogged) -> None:
    loop_close_on_touch(
        customer_id=event.customer_id,
        activity_id=event.activity_id,
        author_id=event.author_id,
        contact_id=event.contact_id,
    )


@subscriber(events.DetractorAnswered)
def notify_detractor(event: events.DetractorAnswered) -> None:
    """The customer's CSM (or, before a handoff, its ISM) sees the detractor answer on the bell."""
    customer = Customer.objects.filter(pk=event.customer_id).only("owner_id", "implementation_manager_id").first()
    if customer is None:
        return
    notification_create(
        recipient_id=customer.owner_id or customer.implementation_manager_id,
        customer_id=customer.pk,
        kind=NotificationKind.DETRACTOR,
        origin_key=f"survey-response:{event.response_id}",
        facts={"survey": event.kind, "score": event.score, "response_id": event.response_id},
    )
