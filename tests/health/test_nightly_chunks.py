"""The nightly run in chunks of customers (``services.CHUNK_SIZE``): any chunk size gives the same rows, the same
customers' health, the same timeline entries and the same events as one chunk, with band changes and overrides on
either side of a chunk's edge; a rerun, or a run killed between chunks and run again, writes and announces nothing
twice; and the run's queries grow with its chunks, not with its customers."""

from datetime import datetime, time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import clock
from core.events import recorded
from health import services
from health.events import HealthBandChanged
from health.models import HealthOverride, HealthScore
from portfolio.models import Activity, Customer, Stage
from tests.health.factories import rule, usage, version
from tests.portfolio.factories import CustomerFactory, hand_off

DAY1 = clock.today()
DAY2 = DAY1 + timedelta(days=1)
NIGHT2 = timezone.make_aware(datetime.combine(DAY2, time(2, 30)))  # DAY2's run, on its own clock
SIMPLE = {"adoption": rule(60, 10, 70), "engagement": rule(40, 4, 22)}


def ongoing(org, *, licences=20, users=10, days=40):
    """An ongoing high-touch customer scored on usage and engagement: 10 users a day of 20 licences is 80 (green),
    of 30 licences 60 (yellow), of 200 licences 40 (red)."""
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    Customer.objects.filter(pk=customer.pk).update(licences=licences)
    if days:
        usage(customer, until=DAY2, users=users, days=days)
    return customer


@pytest.fixture
def book(org):
    """Eleven customers scored on DAY1, then changed before DAY2: bands that move and bands that stay, overrides
    started, in force and running out, a first score, a churned customer and one left without data, spread over
    the ids so that chunks of 1, 2 or 3 cut between them."""
    version("high", "ongoing", SIMPLE)
    c = {
        "green_to_red": ongoing(org),
        "stays_green": ongoing(org),
        "churns": ongoing(org),
        "overridden_red_green_below": ongoing(org),
        "override_runs_out": ongoing(org, licences=200),  # red
        "red_to_yellow": ongoing(org, licences=200),
        "stays_red": ongoing(org, licences=200),
        "override_started_on_a_change": ongoing(org),
        "loses_its_data": ongoing(org),
        "yellow_to_green": ongoing(org, licences=30),
    }
    services.scores_recompute(DAY1)  # on the clock of DAY1: the overrides below start today
    services.override_start(
        customer=c["overridden_red_green_below"], actor=org.csm_a, band="red", reason="Diretor saiu", ends_on=DAY2
    )
    services.override_start(
        customer=c["override_runs_out"], actor=org.csm_a, band="green", reason="Renovou por 2 anos", ends_on=DAY1
    )
    services.override_start(
        customer=c["override_started_on_a_change"], actor=org.csm_a, band="yellow", reason="Reclamou", ends_on=DAY2
    )
    Customer.objects.filter(pk__in=[c["green_to_red"].pk, c["override_started_on_a_change"].pk]).update(licences=200)
    Customer.objects.filter(pk=c["red_to_yellow"].pk).update(licences=30)
    Customer.objects.filter(pk=c["yellow_to_green"].pk).update(licences=20)
    Customer.objects.filter(pk=c["churns"].pk).update(stage=Stage.CHURNED)
    Customer.objects.filter(pk=c["loses_its_data"].pk).update(licences=None)
    c["loses_its_data"].usage_days.all().delete()
    c["first_score"] = ongoing(org)  # new since DAY1
    return c


def state() -> dict:
    """Everything the run writes: rows, customers' health, timeline entries, overrides."""
    return {
        "rows": list(
            HealthScore.objects.order_by("customer_id", "day").values_list(
                "customer_id", "day", "score", "band", "profile_version_id", "measures", "override_id", "previous_band"
            )
        ),
        "health": list(Customer.objects.order_by("pk").values_list("pk", *services.HEALTH_FIELDS)),
        "timeline": list(
            Activity.objects.filter(kind="health")
            .order_by("customer_id", "external_id")
            .values_list("customer_id", "external_id", "title", "body", "data")
        ),
        "overrides": list(HealthOverride.objects.order_by("pk").values_list("pk", "ended_at", "ended_by")),
    }


def band_events(events) -> list[HealthBandChanged]:
    return sorted((e for e in events if isinstance(e, HealthBandChanged)), key=lambda e: e.customer_id)


def run_in_chunks(monkeypatch, committed, chunk_size: int, day=DAY2):
    """DAY2's run in chunks of ``chunk_size``, committed, then undone: (its result, what it wrote, its events)."""
    monkeypatch.setattr(services, "CHUNK_SIZE", chunk_size)
    savepoint = transaction.savepoint()
    with clock.at(NIGHT2), recorded() as events, committed():
        result = services.scores_recompute(day)
    written = state()
    transaction.savepoint_rollback(savepoint)
    return result, written, band_events(events)


@pytest.mark.parametrize("chunk_size", [1, 2, 3])
def test_a_run_in_chunks_writes_and_announces_exactly_what_one_chunk_does(book, monkeypatch, committed, chunk_size):
    one_result, one_state, one_events = run_in_chunks(monkeypatch, committed, services.CHUNK_SIZE)
    result, written, events = run_in_chunks(monkeypatch, committed, chunk_size)

    assert written == one_state
    assert events == one_events
    assert result == one_result
    # and the one chunk did what the story says, so the comparison compares something
    ids = {name: customer.pk for name, customer in book.items()}
    assert [(e.customer_id, e.from_band, e.to_band) for e in one_events] == [
        (ids["green_to_red"], "green", "red"),
        (ids["override_runs_out"], "green", "red"),  # the override ran out: the computed red shows again
        (ids["red_to_yellow"], "red", "yellow"),
        (ids["yellow_to_green"], "yellow", "green"),
    ]
    assert (one_result.scored, one_result.band_changes, one_result.overrides_ended) == (10, 4, 1)
    health = {pk: (band, real) for pk, _, real, band, *_ in one_state["health"]}
    assert health[ids["overridden_red_green_below"]] == ("red", "green")
    assert health[ids["override_started_on_a_change"]] == ("yellow", "red")
    assert health[ids["churns"]] == ("", "")
    assert health[ids["loses_its_data"]] == ("", "")
    first = [t for t in one_state["timeline"] if t[0] == ids["first_score"]]
    assert [t[4]["to"] for t in first] == ["green"]


def test_a_rerun_in_chunks_writes_and_announces_nothing_twice(book, monkeypatch, committed):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    with clock.at(NIGHT2), recorded() as events, committed():
        first = services.scores_recompute(DAY2)
        after_first = state()
        again = services.scores_recompute(DAY2)

    after_again = state()
    assert after_again["timeline"] == after_first["timeline"]
    assert after_again["health"] == after_first["health"]
    assert after_again["rows"] == after_first["rows"]
    assert (first.band_changes, again.band_changes, again.overrides_ended) == (4, 0, 0)
    assert len(band_events(events)) == 4
    assert again.scored == first.scored


def test_a_run_killed_between_chunks_is_finished_by_the_next_as_if_run_once(book, monkeypatch, committed):
    _, whole, whole_events = run_in_chunks(monkeypatch, committed, services.CHUNK_SIZE)
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    finish = services._finish
    chunks = []

    def dies_after_the_second_chunk(*args, **kwargs):
        chunks.append(args[4])  # the chunk's range of ids
        if len(chunks) == 3:
            raise SystemExit("worker killed")
        return finish(*args, **kwargs)

    monkeypatch.setattr(services, "_finish", dies_after_the_second_chunk)
    with clock.at(NIGHT2), recorded() as killed, committed(), pytest.raises(SystemExit):
        services.scores_recompute(DAY2)
    monkeypatch.setattr(services, "_finish", finish)
    with clock.at(NIGHT2), recorded() as rerun, committed():
        services.scores_recompute(DAY2)

    # the first two chunks announced theirs before the kill, the rerun only the others
    assert 0 < len(band_events(killed)) < len(whole_events)
    assert band_events(killed + rerun) == whole_events
    assert state() == whole


def test_the_queries_grow_with_the_chunks_not_with_the_customers(org, monkeypatch):
    version("high", "ongoing", SIMPLE)
    customers = [ongoing(org) for _ in range(12)]

    def queries(chunk_size: int) -> int:
        monkeypatch.setattr(services, "CHUNK_SIZE", chunk_size)
        savepoint = transaction.savepoint()
        with CaptureQueriesContext(connection) as captured:
            result = services.scores_recompute(DAY1)
        transaction.savepoint_rollback(savepoint)
        assert result.scored == len(customers)
        return len(captured)

    queries(12)  # once before counting: what is read once per process is read
    by_chunks = {12 // size: queries(size) for size in (12, 6, 4, 3)}  # 1, 2, 3 and 4 chunks of 12 customers
    per_chunk = by_chunks[2] - by_chunks[1]
    assert per_chunk > 0
    assert by_chunks == {n: by_chunks[1] + (n - 1) * per_chunk for n in (1, 2, 3, 4)}

    customers += [ongoing(org) for _ in range(12)]
    assert queries(6) == by_chunks[4]  # twice the customers in as many chunks: as many queries
    assert queries(24) == by_chunks[1]


def test_each_row_carries_the_day_befores_band_and_turned_red_reads_the_changes_to_red(book, monkeypatch, committed):
    # given DAY1's scores, when DAY2's run scores the book in chunks of 2
    from health.selectors import turned_red

    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    with clock.at(NIGHT2), committed():
        services.scores_recompute(DAY2)

    # then each of DAY2's rows carries the band of its customer's DAY1 row ("" for a customer first scored on DAY2)
    day1 = dict(HealthScore.objects.filter(day=DAY1).values_list("customer_id", "band"))
    day2 = HealthScore.objects.filter(day=DAY2).values_list("customer_id", "previous_band")
    assert dict(day2) == {customer: day1.get(customer, "") for customer, _ in day2}
    assert dict(day2)[book["first_score"].pk] == ""
    # and "turned red today" is the red row that was green: not the one red both days, nor the one under an override
    found = turned_red(book["green_to_red"].owner, DAY2)
    assert [(row.customer_id, row.from_band) for row in found] == [(book["green_to_red"].pk, "green")]
