"""What surveys announce, for the apps above them (metrics, playbooks) and for their own follow-ups.

Published through the bus in ``core.events``; subscribers run in Celery tasks after commit. eNPS answers
are anonymous: their events carry no person and no customer.
"""

from dataclasses import dataclass
from datetime import date

from core.events import Event


@dataclass(frozen=True, kw_only=True)
class SurveyAnswerRecorded(Event):
    """An answer was recorded, or changed (``previous_score`` is then the score it replaced)."""

    response_id: int
    campaign_id: int
    kind: str
    score: int
    previous_score: int | None
    customer_id: int | None
    contact_id: int | None
    answered_on: date


@dataclass(frozen=True, kw_only=True)
class DetractorAnswered(Event):
    """A customer's contact answered as a detractor (NPS 0–6, or the bottom of CSAT / CES), and no
    follow-up exists yet: the loop must be closed."""

    response_id: int
    campaign_id: int
    kind: str
    score: int
    customer_id: int
    contact_id: int | None
    answered_on: date


@dataclass(frozen=True, kw_only=True)
class DeliveryBounced(Event):
    """A survey email was refused for good, at send time or by a late bounce report."""

    delivery_id: int
    campaign_id: int
    contact_id: int | None
    customer_id: int | None
