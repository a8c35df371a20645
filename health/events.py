"""What health announces, for the apps above it (playbooks).

Published by ``health.services`` through the bus in ``core.events`` after the nightly score commits (or
when an override starts or ends). docs/events.md lists every event with who listens.
"""

from dataclasses import dataclass
from datetime import date

from portfolio.events import CustomerEvent


@dataclass(frozen=True, kw_only=True)
class HealthBandChanged(CustomerEvent):
    """The customer's health band changed from one day's score to the next, or by an override starting or
    ending. A customer's first score is not announced (it is where the customer starts; the timeline records
    it). Bands: ``red``, ``yellow``, ``green``."""

    day: date
    from_band: str
    to_band: str
    score: int
