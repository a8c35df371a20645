"""The rollups: built set-based from the ledger, proved equal to it by ``metrics_rebuild --check``, and
refreshed after a subscription changes (only the periods the change touches)."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from metrics import rollups, services, subscribers, tasks
from metrics.facts import LedgerHistory
from metrics.figures import Totals
from metrics.models import Rollup, StaleMonth
from metrics.periods import Period, PeriodKind
from portfolio import events
from tests.metrics.conftest import TODAY, R, at
from tests.portfolio.factories import subscribe

AUGUST = TODAY.replace(day=1)


def stored(start, end, **slice_filter) -> Totals:
    rows = Rollup.objects.filter(period_start=start, period_end=end, **slice_filter)
    return Totals.sum(Totals.of(row) for row in rows)


def test_the_periods_built_are_every_month_trailing_year_quarter_and_year(story, today):
    periods = {(p.start, p.end) for p in rollups.periods_to_build()}

    assert (date(2025, 1, 1), date(2025, 1, 1)) in periods
    assert (date(2024, 9, 1), AUGUST) in periods  # trailing twelve months
    assert (date(2025, 4, 1), date(2025, 6, 1)) in periods  # a quarter
    assert (date(2025, 7, 1), AUGUST) in periods  # the running quarter
    assert (date(2025, 1, 1), AUGUST) in periods  # the running year
    assert len(periods) == 8 + 8 + 3 + 1  # months, trailing twelve months, quarters, the year


def test_a_rebuild_stores_the_ledgers_totals_per_slice_and_check_agrees(story, today, capsys):
    rollups.rebuild_all()

    june = stored(date(2025, 6, 1), date(2025, 6, 1))
    assert (june.mrr_start_cents, june.mrr_end_cents, june.reactivation_cents) == (4400 * R, 4700 * R, 600 * R)
    lucas_june = stored(date(2025, 6, 1), date(2025, 6, 1), owner=story.lucas)
    assert lucas_june.contraction_cents == 300 * R
    call_command("metrics_rebuild", check=True)
    assert "The rollups equal the ledger" in capsys.readouterr().out


def test_without_postgresql_the_rollups_come_from_the_python_reference_and_are_the_same(story, today):
    # given: the rollups the SQL wrote
    rollups.rebuild_all()
    columns = [f.name for f in Rollup._meta.fields if f.name != "id"]
    from_sql = sorted(Rollup.objects.values_list(*columns))

    # when: every period is written again the way the embedded SQLite run writes it
    history = LedgerHistory()
    for period in rollups.periods_to_build():
        rollups.build_period_from_history(period, history)

    # then
    assert sorted(Rollup.objects.values_list(*columns)) == from_sql
    assert from_sql


def test_check_fails_when_a_rollup_differs_from_the_ledger(story, today):
    rollups.rebuild_all()
    row = Rollup.objects.filter(period_start=date(2025, 7, 1), period_end=date(2025, 7, 1)).first()
    Rollup.objects.filter(pk=row.pk).update(churn_cents=row.churn_cents + 1)

    with pytest.raises(CommandError, match="differ from the ledger in 1 slices"):
        call_command("metrics_rebuild", check=True)


def test_check_fails_when_a_period_was_never_built(story, today):
    rollups.rebuild_all()
    Rollup.objects.filter(period_start=date(2025, 4, 1), period_end=date(2025, 6, 1)).delete()

    with pytest.raises(CommandError):
        call_command("metrics_rebuild", check=True)


def test_rebuilding_twice_changes_nothing(story, today):
    rollups.rebuild_all()
    columns = ("period_start", "period_end", "owner", "segment", "mrr_end_cents", "churned_customers")
    first = sorted(Rollup.objects.values_list(*columns))

    call_command("metrics_rebuild")

    assert sorted(Rollup.objects.values_list(*columns)) == first


def test_a_subscription_change_marks_its_month_stale_and_the_refresh_rebuilds_from_it(story, today):
    rollups.rebuild_all()
    untouched = Rollup.objects.filter(period_start=date(2025, 6, 1), period_end=date(2025, 6, 1)).values_list("pk")
    before = set(untouched)

    subscribe(story.alfa, 200 * R, start=date(2025, 8, 2), product="API")
    services.rollups_mark_stale(day=date(2025, 8, 2))
    services.rollups_mark_stale(day=date(2025, 8, 10))
    built = services.rollups_refresh()

    assert built == len(rollups.periods_to_build(AUGUST))
    assert stored(AUGUST, AUGUST).expansion_cents == 200 * R
    assert set(untouched) == before  # June was not rebuilt
    assert not StaleMonth.objects.exists()
    assert rollups.check().ok
    assert services.rollups_refresh() == 0  # nothing stale left


def test_a_change_in_the_future_marks_the_current_month(story, today):
    services.rollups_mark_stale(day=date(2025, 11, 1))

    assert list(StaleMonth.objects.values_list("month", flat=True)) == [AUGUST]


def test_with_a_worker_the_subscriber_marks_the_month_and_queues_a_debounced_refresh(
    story, today, monkeypatch, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(tasks.rollups_refresh, "apply_async", lambda **kwargs: queued.append(kwargs))
    sub = subscribe(story.gama, 100 * R, start=date(2025, 7, 20), product="Suporte")
    event = events.SubscriptionCreated(
        customer_id=story.gama.pk, subscription_id=sub.pk, mrr_before_cents=1000 * R, mrr_after_cents=1100 * R
    )

    subscribers.rollups_after_subscription_created(event)

    assert StaleMonth.objects.filter(month=date(2025, 7, 1)).exists()
    assert queued == [{"countdown": subscribers.REFRESH_AFTER_SECONDS}]


def test_without_a_worker_the_subscriber_only_marks_and_the_page_refreshes(story, today, committed, client_for):
    rollups.rebuild_all()
    with committed():
        subscribe(story.gama, 100 * R, start=date(2025, 7, 20), product="Suporte")
    assert StaleMonth.objects.filter(month=date(2025, 7, 1)).exists()

    response = client_for(story.org.leader_a).get("/metrics/", {"month": "2025-07"})

    assert response.context["overview"].totals.expansion_cents == 100 * R
    assert not StaleMonth.objects.exists()


def test_the_subscribers_listen_to_the_three_subscription_events():
    from core.events import subscribers_of

    for event in (events.SubscriptionCreated, events.SubscriptionChanged, events.SubscriptionCancelled):
        assert any(name.startswith("metrics.subscribers.") for name in subscribers_of(event))


def test_the_refresh_task_calls_the_service(story, today):
    rollups.rebuild_all()
    services.rollups_mark_stale(day=date(2025, 8, 1))

    assert tasks.rollups_refresh.apply().get() == len(rollups.periods_to_build(AUGUST))


def test_the_nightly_rebuild_is_on_the_beat():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["metrics.rollups_rebuild"]["task"] == tasks.rollups_rebuild.name


def test_quarter_and_its_single_month_share_one_period():
    periods = [
        Period.of(PeriodKind.QUARTER, date(2025, 7, 1), current=date(2025, 7, 1)),
        Period.of(PeriodKind.MONTH, date(2025, 7, 1), current=date(2025, 7, 1)),
    ]

    assert len(rollups.unique_ranges(periods)) == 1


def test_an_empty_ledger_builds_nothing(db):
    assert rollups.rebuild_all() == 0
    with at(TODAY):
        call_command("metrics_rebuild", check=True)
