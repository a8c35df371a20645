"""The demo's health history: the nightly computation run for the first day of each of the last 12 months, for
each week of the last 90 days, for yesterday and for today, over the usage ``demo.usage`` wrote, so the
leader's view has its weekly trend, the backtest its months and My day the customers that turned red.

The scores come from ``health.services.scores_recompute``, the same computation the nightly job runs: the
demo never writes scores of its own. The past days are history: each is scored on its own day's clock (2:30,
when the nightly run runs), so its band changes are on the timeline on that day, and announces nothing, so no
playbook enrols a customer today for a change of months ago (and 50,000 customers seed in minutes, not hours).
Today's run is the nightly run as every night: its changes since yesterday are announced.
"""

from datetime import date, timedelta

from core import clock
from demo.plans import moment
from health.services import scores_recompute


def history_days(today: date, months: int = 12, weeks: int = 13) -> list[date]:
    """The first day of each of the last ``months`` months (this one included), the same weekday in each of the
    last ``weeks`` weeks (the leader's trend points), yesterday and today."""
    days = []
    month = date(today.year, today.month, 1)
    for _ in range(months):
        days.append(month)
        month = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    weekly = [today - timedelta(weeks=k) for k in range(weeks)]
    return sorted({*days, *weekly, today - timedelta(days=1), today})


def score_history(today: date) -> list[date]:
    """Compute the scores of every history day, oldest first; returns the days. The days before ``today``
    run at 2:30 of that day and announce nothing; ``today`` runs on the real clock and announces."""
    days = history_days(today)
    for day in days:
        if day < today:
            with clock.at(moment(day, hour=2, minute=30)):
                scores_recompute(day, announce=False)
        else:
            scores_recompute(day)
    return days
