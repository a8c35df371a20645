"""What portfolio announces, for itself and the apps above it (surveys, metrics, playbooks).

Published by ``portfolio.services`` through the bus in ``core.events``; subscribers run in Celery tasks
after commit. Portfolio never imports its subscribers. docs/events.md lists every event with who listens.
"""

from dataclasses import dataclass
from datetime import date

from core.events import Event


@dataclass(frozen=True, kw_only=True)
class CustomerEvent(Event):
    """Something that happened to one customer."""

    customer_id: int


@dataclass(frozen=True, kw_only=True)
class CustomerCreated(CustomerEvent):
    """A customer was created; onboarding starts."""

    service_model: str
    owner_id: int | None
    implementation_manager_id: int | None


@dataclass(frozen=True, kw_only=True)
class StageChanged(CustomerEvent):
    from_stage: str
    to_stage: str


@dataclass(frozen=True, kw_only=True)
class OwnerChanged(CustomerEvent):
    """The customer's owner CSM changed, by reassignment or by a handoff to another CSM."""

    from_owner_id: int | None
    to_owner_id: int
    actor_id: int | None
    by_handoff: bool


@dataclass(frozen=True, kw_only=True)
class MilestoneReached(CustomerEvent):
    milestone_id: int
    kind: str
    achieved_on: date
    target_date: date
    late: bool


@dataclass(frozen=True, kw_only=True)
class HandoffCompleted(CustomerEvent):
    handoff_id: int
    from_user_id: int | None
    to_user_id: int


@dataclass(frozen=True, kw_only=True)
class ReviewCompleted(CustomerEvent):
    review_id: int


@dataclass(frozen=True, kw_only=True)
class ChurnRequestOpened(CustomerEvent):
    churn_request_id: int
    kind: str
    mrr_at_risk_cents: int


@dataclass(frozen=True, kw_only=True)
class ChurnRequestRecovered(CustomerEvent):
    """A churn request was reversed (recovered, or recovered with a downsell)."""

    churn_request_id: int
    uti_stay_id: int
    outcome: str


@dataclass(frozen=True, kw_only=True)
class UtiEntered(CustomerEvent):
    """A saved customer starts its recovery month."""

    uti_stay_id: int
    churn_request_id: int
    started_on: date
    ends_on: date
    actor_id: int | None


@dataclass(frozen=True, kw_only=True)
class UtiLeft(CustomerEvent):
    """The recovery month ended with a decision: recovered, or churned after all."""

    uti_stay_id: int
    decision: str


@dataclass(frozen=True, kw_only=True)
class CustomerChurned(CustomerEvent):
    churn_request_id: int | None
    effective_date: date


@dataclass(frozen=True, kw_only=True)
class TouchLogged(CustomerEvent):
    """A person logged a call, meeting or email with the customer; ``contact_id`` is the contact it was
    with, when the person said so."""

    activity_id: int
    author_id: int | None
    contact_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class SubscriptionEvent(CustomerEvent):
    """A subscription was created, changed or cancelled. ``mrr_before_cents`` and ``mrr_after_cents``
    are the customer's MRR (all subscriptions, as the ledger counts it today) before and after."""

    subscription_id: int
    mrr_before_cents: int
    mrr_after_cents: int

    @property
    def mrr_change_cents(self) -> int:
        return self.mrr_after_cents - self.mrr_before_cents


@dataclass(frozen=True, kw_only=True)
class SubscriptionCreated(SubscriptionEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class SubscriptionChanged(SubscriptionEvent):
    """The subscription's terms changed from ``effective_date``; ``subscription_id`` is the new row and
    ``replaced_id`` the one it ends (the same row when the change took effect on its first day)."""

    replaced_id: int
    effective_date: date


@dataclass(frozen=True, kw_only=True)
class SubscriptionCancelled(SubscriptionEvent):
    end_date: date


@dataclass(frozen=True, kw_only=True)
class DelinquencyStarted(CustomerEvent):
    """A subscription's payment is overdue (it still counts in MRR)."""

    subscription_id: int
    since: date


@dataclass(frozen=True, kw_only=True)
class DelinquencyEnded(CustomerEvent):
    """An overdue subscription was paid, or ended while overdue."""

    subscription_id: int
    paid: bool


@dataclass(frozen=True, kw_only=True)
class OpportunityWon(CustomerEvent):
    opportunity_id: int
    kind: str
    mrr_cents: int


@dataclass(frozen=True, kw_only=True)
class OpportunityLost(CustomerEvent):
    opportunity_id: int
    kind: str
    mrr_cents: int


@dataclass(frozen=True, kw_only=True)
class ContactOptedOut(CustomerEvent):
    """A contact asked to receive no more emails (surveys and tech-touch alike)."""

    contact_id: int
