"""Metrics writes: marking rollups stale when the ledger changes, and refreshing them."""

from datetime import date

from django.db import transaction

from core import clock
from metrics import cohorts, rollups
from metrics.models import StaleMonth
from portfolio.ledger import month_start


def rollups_mark_stale(*, day: date) -> None:
    """The ledger changed from ``day``'s month on (a day in the future changes nothing yet: the current
    month's rollups are rebuilt when that month's figures move)."""
    month = min(month_start(day), month_start(clock.today()))
    StaleMonth.objects.get_or_create(month=month)


@transaction.atomic
def rollups_refresh() -> int:
    """Rebuild the periods ending in or after the earliest stale month, then forget the stale months. The
    stale rows stay locked until the rebuild commits, so a second refresh waits and then finds nothing."""
    stale = list(StaleMonth.objects.select_for_update().order_by("month"))
    if not stale:
        return 0
    built = rollups.build(rollups.periods_to_build(stale[0].month))
    cohorts.build(last=month_start(clock.today()), since=stale[0].month)
    StaleMonth.objects.filter(pk__in=[s.pk for s in stale]).delete()
    return built


def rollups_rebuild_all() -> int:
    """Rebuild every period (nightly, and the command)."""
    return rollups.rebuild_all()
