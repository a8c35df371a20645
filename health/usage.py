"""Usage events in: a batch is checked (``health.ingest``) and stored only when every event passes; events are
inserted in one statement that skips the event ids already stored, and the days the new events fell on are
rolled up (``health.rollup``) by a task queued after commit."""

import json
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write, sends_usage_for_every_customer
from accounts.models import User
from core import clock
from health import ingest, tasks
from health.models import UsageEvent


class UsageBatchInvalid(Exception):
    """A batch with a bad event: nothing was stored. ``errors`` is by position ({"3": {"timestamp": [...]}})."""

    def __init__(self, errors: dict):
        super().__init__("usage batch has errors")
        self.errors = errors


@dataclass(frozen=True)
class UsageIngested:
    received: int
    created: int
    duplicates: int
    days: tuple[date, ...]


def usage_events_ingest(*, events: list, actor: User | None, token_scope: str | None = None) -> UsageIngested:
    """Store a batch of usage events sent by ``actor`` (with a token of ``token_scope``, or a session or CSV
    import: ``None``). Raises UsageBatchInvalid (nothing stored) when any event is bad or the batch too big.
    Events already stored (by ``event_id``) are counted as duplicates and left as they were."""
    every_customer = sends_usage_for_every_customer(token_scope)
    if not every_customer:
        ensure_can_write(actor)
    if not isinstance(events, list) or not events:
        raise UsageBatchInvalid({"events": [_("Send a list of events (at least one).")]})
    if len(events) > ingest.MAX_BATCH:
        raise UsageBatchInvalid({"events": [_("At most %(max)s events per batch.") % {"max": f"{ingest.MAX_BATCH:,}"}]})
    batch = ingest.check_events(events, actor=actor, every_customer=every_customer)
    if not batch.ok:
        raise UsageBatchInvalid({str(position): errors for position, errors in sorted(batch.errors.items())})
    return usage_events_store(events=batch.events)


@transaction.atomic
def usage_events_store(*, events: list[ingest.CheckedEvent]) -> UsageIngested:
    """Insert checked events in one statement, skipping event ids already stored; queue the rollup of the
    (customer, day) pairs the new ones touched, after commit."""
    created = _insert_new(events)
    touched = {(e.customer_id, e.day) for e in events if e.source_id in created}
    if touched:
        tasks.usage_rollup_days.delay_on_commit(
            days=sorted({day.isoformat() for _, day in touched}),
            customer_ids=sorted({customer for customer, _ in touched}),
        )
    return UsageIngested(
        received=len(events),
        created=len(created),
        duplicates=len(events) - len(created),
        days=tuple(sorted({day for _, day in touched})),
    )


EVENTS_IN = "health_usage_events_in"  # a temporary table per batch, dropped at its end
INSERT_COPIED_SQL = f"""
INSERT INTO health_usageevent (source_id, customer_id, user_ref, name, occurred_at, properties, received_at)
SELECT source_id, customer_id, user_ref, name, occurred_at, properties, %s FROM {EVENTS_IN}
ON CONFLICT (source_id) DO NOTHING
RETURNING source_id
"""  # noqa: S608 - a fixed table name, values as parameters


def _insert_new(events: list[ingest.CheckedEvent]) -> set[str]:
    """INSERT … ON CONFLICT (source_id) DO NOTHING RETURNING source_id: the ids that were new, from one
    statement (bulk_create(ignore_conflicts=True) cannot say which rows it skipped). On PostgreSQL the rows are
    first copied (``COPY``, psycopg's C code) into a temporary table the INSERT reads: as arrays (``unnest``)
    psycopg quoted each JSON document and text in Python, a regex each, about a fifth of a batch's time; elsewhere
    (the embedded SQLite run) they travel as a VALUES list prepared by the model's fields."""
    if not events:
        return set()
    now = clock.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {EVENTS_IN} (source_id text, customer_id bigint, user_ref text, name text, "
                "occurred_at timestamptz, properties jsonb) ON COMMIT DROP"
            )
            columns = "source_id, customer_id, user_ref, name, occurred_at, properties"
            with cursor.cursor.copy(f"COPY {EVENTS_IN} ({columns}) FROM STDIN") as copy:
                for e in events:
                    copy.write_row(
                        (
                            e.source_id, e.customer_id, e.user_ref, e.name, e.occurred_at,
                            json.dumps(e.properties, ensure_ascii=False),
                        )
                    )  # fmt: skip
            cursor.execute(INSERT_COPIED_SQL, [now])
            created = {source_id for (source_id,) in cursor.fetchall()}
            # Dropped now as well as at commit: the batch may run inside a larger transaction.
            cursor.execute(f"DROP TABLE {EVENTS_IN}")
            return created
    meta = UsageEvent._meta
    names = ["source_id", "customer_id", "user_ref", "name", "occurred_at", "properties", "received_at"]
    fields = [meta.get_field(c if c != "customer_id" else "customer") for c in names]
    params: list = []
    for event in events:
        values = [
            event.source_id, event.customer_id, event.user_ref, event.name, event.occurred_at, event.properties, now
        ]  # fmt: skip
        params.extend(f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True))
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    table = connection.ops.quote_name(meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([row] * len(events))} "  # noqa: S608 - fixed names
        "ON CONFLICT (source_id) DO NOTHING RETURNING source_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {source_id for (source_id,) in cursor.fetchall()}
