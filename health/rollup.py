"""Usage events into ``UsageDay`` rows, and the raw events' clean-up.

``usage_rollup(days=...)`` rebuilds the rows of the given days (in Leme's time zone) from the raw events: on
PostgreSQL one statement (INSERT … SELECT … GROUP BY … ON CONFLICT (customer_id, day) DO UPDATE) computes each
customer-day's event count, distinct active users and counts by event name (``jsonb_object_agg``) and writes
them. Every figure is recomputed from all the raw events of the day, never added to, so a rollup run twice, or
run while a late event arrives and then again, leaves exact rows. On SQLite (the embedded run) the same rows are
computed in Python; tests/health/test_rollup.py proves both give the same rows.

Rows stay when their raw events are deleted by retention (``usage_events_prune``): the score reads rollups.
"""

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import clock
from health.models import UsageDay, UsageEvent

logger = logging.getLogger(__name__)

ROLLUP_SQL = """
WITH picked AS (
    SELECT customer_id, (occurred_at AT TIME ZONE %(tz)s)::date AS day, user_ref, name
    FROM health_usageevent
    WHERE occurred_at >= %(start)s AND occurred_at < %(end)s {customers}
), chosen AS (
    SELECT * FROM picked WHERE day = ANY(%(days)s)
), by_name AS (
    SELECT customer_id, day, jsonb_object_agg(name, n) AS events_by_name
    FROM (SELECT customer_id, day, name, COUNT(*) AS n FROM chosen GROUP BY customer_id, day, name) AS named
    GROUP BY customer_id, day
)
INSERT INTO health_usageday (customer_id, day, active_users, events, events_by_name)
SELECT totals.customer_id, totals.day, totals.active_users, totals.events, by_name.events_by_name
FROM (
    SELECT customer_id, day, COUNT(DISTINCT user_ref) AS active_users, COUNT(*) AS events
    FROM chosen GROUP BY customer_id, day
) AS totals
JOIN by_name ON by_name.customer_id = totals.customer_id AND by_name.day = totals.day
ON CONFLICT (customer_id, day) DO UPDATE
SET active_users = EXCLUDED.active_users, events = EXCLUDED.events, events_by_name = EXCLUDED.events_by_name
"""


def _window(days: list[date]) -> tuple[datetime, datetime]:
    """From the first day's local midnight to the midnight after the last: the index range on occurred_at."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(min(days), time.min, tzinfo=zone)
    end = datetime.combine(max(days) + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def usage_rollup(*, days: Iterable[date], customer_ids: Iterable[int] | None = None) -> int:
    """Rebuild the ``UsageDay`` rows of ``days`` (local days) from the raw events, for every customer or only
    ``customer_ids``. Returns how many rows were written. Idempotent: run twice, the same rows."""
    days = sorted(set(days))
    if not days:
        return 0
    customers = sorted(set(customer_ids)) if customer_ids is not None else None
    if customers == []:
        return 0
    start, end = _window(days)
    if connection.vendor != "postgresql":
        return _rollup_python(days, customers, start, end)
    params = {"tz": settings.TIME_ZONE, "start": start, "end": end, "days": days, "customers": customers}
    sql = ROLLUP_SQL.format(customers="AND customer_id = ANY(%(customers)s)" if customers is not None else "")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = cursor.rowcount
    logger.info("usage rolled up", extra={"days": len(days), "rows": written})
    return written


def _rollup_python(days: list[date], customers: list[int] | None, start: datetime, end: datetime) -> int:
    """The same rows as ROLLUP_SQL, computed in Python (SQLite has no jsonb_object_agg nor time zones)."""
    wanted = set(days)
    events = UsageEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    if customers is not None:
        events = events.filter(customer_id__in=customers)
    users: dict[tuple[int, date], set[str]] = defaultdict(set)
    names: dict[tuple[int, date], Counter] = defaultdict(Counter)
    for customer_id, occurred_at, user_ref, name in events.values_list(
        "customer_id", "occurred_at", "user_ref", "name"
    ).iterator(chunk_size=5000):
        day = timezone.localdate(occurred_at)
        if day in wanted:
            users[(customer_id, day)].add(user_ref)
            names[(customer_id, day)][name] += 1
    rows = [
        UsageDay(
            customer_id=customer_id,
            day=day,
            active_users=len(users[(customer_id, day)]),
            events=sum(counts.values()),
            events_by_name=dict(counts),
        )
        for (customer_id, day), counts in names.items()
    ]
    UsageDay.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["customer", "day"],
        update_fields=["active_users", "events", "events_by_name"],
        batch_size=1000,
    )
    return len(rows)


def usage_events_prune(*, batch_size: int = 10_000) -> int:
    """Delete raw events older than ``LEME_USAGE_RETENTION_DAYS``, ``batch_size`` at a time (each batch its own
    short transaction, so the table is never locked for long). The rollups stay. Returns how many went."""
    cutoff = clock.now() - timedelta(days=settings.LEME_USAGE_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(UsageEvent.objects.filter(occurred_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        count, _ = UsageEvent.objects.filter(pk__in=ids).delete()
        deleted += count
    logger.info("old usage events deleted", extra={"deleted": deleted})
    return deleted
