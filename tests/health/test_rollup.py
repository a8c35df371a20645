"""The daily usage rollup: exact on a hand-built set of events, by Leme's day, idempotent, and the same in SQL
and in the Python fallback the embedded SQLite run uses."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from core import clock
from health import rollup, tasks
from health.models import UsageDay, UsageEvent
from tests.health.factories import UsageEventFactory
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db

DEC_1, DEC_2 = date(2026, 12, 1), date(2026, 12, 2)


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def book(org):
    """Two customers' events around São Paulo's midnight (03:00 UTC), by hand."""
    a, b = CustomerFactory(owner=org.csm_a), CustomerFactory(owner=org.csm_b)
    rows = [
        # customer a, 1 December in São Paulo: three users, five events
        (a, "u-1", "login", at(11)),
        (a, "u-1", "login", at(12)),
        (a, "u-2", "login", at(13)),
        (a, "u-2", "report_exported", at(14)),
        (a, "u-3", "report_exported", at(2, 59, day=2)),  # 23:59 on 1 December in São Paulo
        # customer a, 2 December in São Paulo (from 03:00 UTC)
        (a, "u-1", "login", at(3, 0, day=2)),
        # customer b, 1 December: one user, twice
        (b, "u-9", "invoice_sent", at(20)),
        (b, "u-9", "invoice_sent", at(21)),
        # 30 November in São Paulo: not asked for
        (b, "u-9", "login", at(2, 0)),
    ]
    for customer, user, name, moment in rows:
        UsageEventFactory(customer=customer, user_ref=user, name=name, occurred_at=moment)
    return a, b


def rows() -> set[tuple]:
    return {
        (r.customer_id, r.day, r.active_users, r.events, tuple(sorted(r.events_by_name.items())))
        for r in UsageDay.objects.all()
    }


def test_the_rollup_counts_events_users_and_names_by_leme_s_day(book):
    a, b = book

    written = rollup.usage_rollup(days=[DEC_1, DEC_2])

    assert written == 3
    assert rows() == {
        (a.pk, DEC_1, 3, 5, (("login", 3), ("report_exported", 2))),
        (a.pk, DEC_2, 1, 1, (("login", 1),)),
        (b.pk, DEC_1, 1, 2, (("invoice_sent", 2),)),
    }


def test_the_rollup_is_idempotent_and_catches_late_events(book):
    a, _b = book
    rollup.usage_rollup(days=[DEC_1, DEC_2])
    first = rows()

    rollup.usage_rollup(days=[DEC_1, DEC_2])
    assert rows() == first
    assert UsageDay.objects.count() == 3

    UsageEventFactory(customer=a, user_ref="u-4", name="login", occurred_at=at(15))
    rollup.usage_rollup(days=[DEC_1])
    day = UsageDay.objects.get(customer=a, day=DEC_1)
    assert (day.active_users, day.events, day.events_by_name) == (4, 6, {"login": 4, "report_exported": 2})


def test_only_the_days_and_customers_asked_for_are_rebuilt(book):
    a, b = book

    rollup.usage_rollup(days=[DEC_2])
    assert {(r.customer_id, r.day) for r in UsageDay.objects.all()} == {(a.pk, DEC_2)}

    rollup.usage_rollup(days=[DEC_1], customer_ids=[b.pk])
    assert {(r.customer_id, r.day) for r in UsageDay.objects.all()} == {(a.pk, DEC_2), (b.pk, DEC_1)}
    assert rollup.usage_rollup(days=[]) == 0
    assert rollup.usage_rollup(days=[DEC_1], customer_ids=[]) == 0


def test_the_python_fallback_gives_the_sql_s_rows(book):
    rollup.usage_rollup(days=[DEC_1, DEC_2])
    by_sql = rows()
    UsageDay.objects.all().delete()

    start, end = rollup._window([DEC_1, DEC_2])
    rollup._rollup_python([DEC_1, DEC_2], None, start, end)

    assert rows() == by_sql


def test_the_nightly_task_and_the_command_roll_up_yesterday_or_a_range(book):
    with clock.at(datetime(2026, 12, 2, 12, tzinfo=UTC)):
        assert tasks.usage_rollup_yesterday.delay().get() == 2
    assert {r.day for r in UsageDay.objects.all()} == {DEC_1}

    call_command("usage_rollup", since="2026-11-29", until="2026-12-02")
    assert {r.day for r in UsageDay.objects.all()} == {DEC_1, DEC_2, date(2026, 11, 30)}


def test_retention_deletes_only_old_raw_events_and_keeps_the_rollups(org, settings):
    settings.LEME_USAGE_RETENTION_DAYS = 30
    customer = CustomerFactory(owner=org.csm_a)
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    old = [UsageEventFactory(customer=customer, occurred_at=now - timedelta(days=31, hours=n)) for n in range(5)]
    kept = UsageEventFactory(customer=customer, occurred_at=now - timedelta(days=29))
    rollup.usage_rollup(days=[(now - timedelta(days=31)).date()])
    assert UsageDay.objects.count() == 1

    with clock.at(now):
        deleted = rollup.usage_events_prune(batch_size=2)

    assert deleted == len(old)
    assert list(UsageEvent.objects.all()) == [kept]
    assert UsageDay.objects.count() == 1
