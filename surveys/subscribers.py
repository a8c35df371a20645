"""What surveys do when portfolio announces an event: transactional campaigns send after a handoff or a
success review; a logged touch closes the loop on a detractor's answer."""

from portfolio import events
from surveys.answers import loop_close_on_touch
from surveys.triggers import send_transactional


def on_handoff_completed(event: events.HandoffCompleted) -> None:
    send_transactional(trigger="handoff", customer_id=event.customer_id)


def on_review_completed(event: events.ReviewCompleted) -> None:
    send_transactional(trigger="review", customer_id=event.customer_id)


def on_touch_logged(event: events.TouchLogged) -> None:
    loop_close_on_touch(customer_id=event.customer_id, activity_id=event.activity_id, author_id=event.author_id)


def connect() -> None:
    events.subscribe(events.HandoffCompleted, on_handoff_completed)
    events.subscribe(events.ReviewCompleted, on_review_completed)
    events.subscribe(events.TouchLogged, on_touch_logged)
