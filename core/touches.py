"""What logging a touch (a call, meeting or email with one of a customer's contacts) brings about in the apps
above portfolio, said on the page that logs it.

Portfolio logs the touch and announces ``TouchLogged``; the apps above act on it after commit. So that the
person who logs it reads at once what it did (the survey loop with that contact is closed…), an app registers
a function here that tells, *before* the touch is written, what it will do: ``(customer_id, contact_id,
happened_at) -> list of sentences``. Portfolio asks without knowing who answers.
"""

from collections.abc import Callable
from datetime import datetime

TouchOutcome = Callable[..., list[str]]

_outcomes: list[TouchOutcome] = []


def register(outcome: TouchOutcome) -> None:
    if outcome not in _outcomes:
        _outcomes.append(outcome)


def outcomes(*, customer_id: int, contact_id: int | None, happened_at: datetime) -> list[str]:
    """Every registered app's sentences about a touch about to be logged."""
    return [
        sentence
        for outcome in _outcomes
        for sentence in outcome(customer_id=customer_id, contact_id=contact_id, happened_at=happened_at)
    ]
