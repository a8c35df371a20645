"""The event bus: typed events through JSON, subscribers queued after commit, retried when they fail."""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.db import transaction

from core import events
from tests.core import flaky

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"


@dataclass(frozen=True, kw_only=True)
class SomethingHappened(events.Event):
    customer_id: int
    on: date
    at: datetime
    note: str | None
    ids: tuple[int, ...]


seen: list[events.Event] = []


@events.subscriber(SomethingHappened)
def remember(event: SomethingHappened) -> None:
    seen.append(event)


@pytest.fixture(autouse=True)
def _forget():
    seen.clear()


def something(**changes) -> SomethingHappened:
    fields = {
        "customer_id": 7,
        "on": date(2026, 3, 31),
        "at": datetime(2026, 3, 31, 9, 30, tzinfo=UTC),
        "note": None,
        "ids": (1, 2),
    }
    return SomethingHappened(**{**fields, **changes})


def test_an_event_survives_the_trip_through_json_unchanged():
    event = something(note="à vista")

    payload = events.encode(event)

    assert payload == {
        "customer_id": 7,
        "on": "2026-03-31",
        "at": event.at.isoformat(),
        "note": "à vista",
        "ids": [1, 2],
    }
    assert events.decode(SomethingHappened.type_name, payload) == event


def test_a_subscriber_runs_as_a_named_task_with_the_retry_rules():
    assert events.subscribers_of(SomethingHappened) == ["tests.core.test_events.remember"]
    task = remember.task
    assert task.autoretry_for == (Exception,)
    assert (task.max_retries, task.retry_backoff, task.retry_jitter) == (10, 2, True)


@pytest.mark.django_db
def test_subscribers_run_after_commit_and_never_for_a_rollback(committed):
    # given
    kept, rolled_back = something(customer_id=1), something(customer_id=2)

    # when
    with committed():
        events.publish(kept)
        before_commit = list(seen)
    with committed():
        try:
            with transaction.atomic():
                events.publish(rolled_back)
                raise RuntimeError("the write failed")
        except RuntimeError:
            pass

    # then
    assert before_commit == []
    assert seen == [kept]


@pytest.mark.django_db
def test_recorded_sees_what_was_committed_in_order(committed):
    with events.recorded() as announced, committed():
        events.publish(something(customer_id=1))
        events.publish(something(customer_id=2))

    assert [e.customer_id for e in announced] == [1, 2]


def test_every_event_is_documented_in_one_place():
    import health.events
    import portfolio.events
    import surveys.events  # noqa: F401 - declares its events

    documented = DOCS.read_text()
    declared = [name for name in events.event_types() if name.startswith(("portfolio.", "surveys.", "health."))]

    missing = [name for name in declared if f"`{name.rsplit('.', 1)[1]}`" not in documented]
    assert declared, "no event declared"
    assert missing == []
    assert portfolio.events.CustomerEvent.type_name in events.event_types()
    assert health.events.HealthBandChanged.type_name in declared


def test_every_subscriber_is_named_in_its_events_row():
    # the subscribers column of docs/events.md: each app's subscriber, by its function's name, on its event's row
    rows = {
        line.split("|")[1].strip().strip("`"): line for line in DOCS.read_text().splitlines() if line.startswith("| `")
    }
    apps = ("portfolio.", "surveys.", "health.", "metrics.", "playbooks.")
    subscribed = [
        (event_type.__name__, task_name)
        for name, event_type in events.event_types().items()
        if name.startswith(apps)
        for task_name in events.subscribers_of(event_type)
    ]

    missing = [
        f"{event}: {task}" for event, task in subscribed if f"`{task.rsplit('.', 1)[1]}`" not in rows.get(event, "")
    ]

    assert ("OwnerChanged", "portfolio.subscribers.notify_reassigned") in subscribed
    assert missing == []


@pytest.mark.worker
def test_a_failing_subscriber_is_retried_by_the_worker_until_it_succeeds(celery_worker_process):
    # given: a worker that knows the flaky subscriber, and a fresh key for this run
    celery_worker_process({"LEME_TEST_CELERY_IMPORTS": "tests.core.flaky"})
    key = f"leme-test:flaky:{uuid.uuid4().hex}"
    store = flaky.store()

    # when
    with transaction.atomic():
        events.publish(flaky.FlakyHappened(key=key))

    # then: it failed twice, was tried again each time, and its third try did the work
    deadline = time.monotonic() + 60
    while store.get(f"{key}:done") is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert int(store.get(f"{key}:done") or 0) == flaky.FAILURES + 1
    assert int(store.get(f"{key}:attempts")) == flaky.FAILURES + 1
    store.delete(f"{key}:done", f"{key}:attempts")
