"""Domain events that portfolio announces, for the apps above it (playbooks, surveys, metrics).

A service publishes an event; subscribers registered in their ``AppConfig.ready()`` run after the
surrounding transaction commits, so they never act on something that was rolled back. Portfolio never
imports its subscribers.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    customer_id: int


@dataclass(frozen=True)
class CustomerCreated(Event):
    pass


@dataclass(frozen=True)
class StageChanged(Event):
    from_stage: str
    to_stage: str


@dataclass(frozen=True)
class HandoffCompleted(Event):
    handoff_id: int


@dataclass(frozen=True)
class ReviewCompleted(Event):
    review_id: int


@dataclass(frozen=True)
class ChurnRequestOpened(Event):
    churn_request_id: int


@dataclass(frozen=True)
class ChurnRequestRecovered(Event):
    churn_request_id: int
    uti_stay_id: int


@dataclass(frozen=True)
class CustomerChurned(Event):
    churn_request_id: int | None


@dataclass(frozen=True)
class TouchLogged(Event):
    """A person logged a call, meeting or email with the customer."""

    activity_id: int
    author_id: int | None


@dataclass(frozen=True)
class SubscriptionDelinquent(Event):
    subscription_id: int


Handler = Callable[[Event], None]
_subscribers: dict[type[Event], list[Handler]] = defaultdict(list)


def subscribe(event_type: type[Event], handler: Handler) -> None:
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def publish(event: Event) -> None:
    """Deliver ``event`` to its subscribers once the current transaction commits."""
    for handler in list(_subscribers[type(event)]):
        transaction.on_commit(lambda handler=handler: _deliver(handler, event), robust=True)


def _deliver(handler: Handler, event: Event) -> None:
    logger.debug("delivering event", extra={"event": type(event).__name__, "customer_id": event.customer_id})
    handler(event)
