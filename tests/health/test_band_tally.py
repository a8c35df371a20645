"""The per-day band tally of the scores (``HealthBandTally``): kept by the database as scores are written and
deleted, equal to a live count after each, read by the health overview for someone who sees every customer; and
the command that checks and rebuilds it."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import clock
from health import services, tally
from health.models import HealthBandTally, HealthScore
from health.selectors_leader import health_overview
from portfolio import book_tally
from portfolio.models import Customer
from tests.health.factories import rule, usage, version
from tests.health.leader_factories import score
from tests.portfolio.factories import CustomerFactory, hand_off

pytestmark = pytest.mark.django_db

TODAY = clock.today()
YESTERDAY = TODAY - timedelta(days=1)
SIMPLE = {"adoption": rule(60, 10, 70), "engagement": rule(40, 4, 22)}


def ongoing(owner, name, *, users: int | None):
    """An ongoing high-touch customer with 20 licences, ``users`` of them active on each of the last 31 days
    (None: no usage at all, so no score)."""
    customer = CustomerFactory(owner=owner, name=name)
    hand_off(customer, owner)
    Customer.objects.filter(pk=customer.pk).update(licences=20)
    if users is not None:
        usage(customer, until=TODAY, users=users, days=31)
    return customer


@pytest.fixture
def scored(org):
    """Three customers scored by the nightly run yesterday and today, on usage and engagement only: every day
    active → 40 points of engagement; 10 of 20 licences active (50 %) → (50 − 10) ÷ 60 × 60 = 40 more, 80 green;
    2 of 20 (10 %, the worst) → 0 more, 40 red; no usage → no score."""
    version("high", "ongoing", SIMPLE)
    customers = {
        "green": ongoing(org.csm_a, "Padaria Aurora", users=10),
        "red": ongoing(org.csm_a, "Clínica Boa Vista", users=2),
        "none": ongoing(org.csm_a2, "Ótica Central", users=None),
    }
    services.scores_recompute(YESTERDAY, announce=False)
    services.scores_recompute(TODAY)
    return customers


def test_the_tally_counts_each_days_scores_by_band_as_the_run_writes_them(scored):
    assert tally.stored_counts() == {
        (YESTERDAY, "green"): 1, (YESTERDAY, "red"): 1, (YESTERDAY, ""): 1,
        (TODAY, "green"): 1, (TODAY, "red"): 1, (TODAY, ""): 1,
    }  # fmt: skip
    assert tally.check().ok


def test_a_rerun_of_the_day_that_moves_a_band_moves_its_count(scored):
    # given stricter bands: up to 85 is red
    version("high", "ongoing", SIMPLE, red_max=85, yellow_max=90)

    services.scores_recompute(TODAY)

    assert HealthScore.objects.get(customer=scored["green"], day=TODAY).band == "red"
    assert tally.stored_counts() == {
        (YESTERDAY, "green"): 1, (YESTERDAY, "red"): 1, (YESTERDAY, ""): 1,
        (TODAY, "red"): 2, (TODAY, ""): 1,
    }  # fmt: skip
    assert tally.check().ok


def test_the_runs_band_changes_move_the_customers_between_the_books_cells(scored):
    # the customer book's tally (portfolio's) follows the bands the run writes on the customers
    def bands() -> dict[str, int]:
        return {cell[4]: n for cell, (n, _mrr) in book_tally.stored_counts().items() if n}

    assert bands() == {"green": 1, "red": 1, "": 1}
    assert book_tally.check().ok
    version("high", "ongoing", SIMPLE, red_max=85, yellow_max=90)  # stricter: the green one turns red

    services.scores_recompute(TODAY)

    assert bands() == {"red": 2, "": 1}
    assert book_tally.check().ok


def test_a_rerun_that_changes_nothing_leaves_the_tally_as_it_was(scored):
    services.scores_recompute(TODAY)
    services.scores_recompute(TODAY)

    assert tally.stored_counts()[(TODAY, "green")] == 1
    assert tally.check().ok


def test_overrides_change_no_computed_band_so_no_count(scored, org):
    before = tally.stored_counts()

    override = services.override_start(
        customer=scored["red"], actor=org.csm_a, band="green", reason="Renovação assinada ontem"
    )
    assert HealthScore.objects.get(customer=scored["red"], day=TODAY).override_id == override.pk
    services.scores_recompute(TODAY)  # a rerun with the override in force
    services.override_end(override=override, actor=org.csm_a)

    assert tally.stored_counts() == before
    assert tally.check().ok


def test_a_deleted_customer_takes_its_scores_out_of_every_day(scored):
    Customer.objects.filter(pk=scored["green"].pk).delete()

    assert tally.stored_counts() == {
        (YESTERDAY, "red"): 1, (YESTERDAY, ""): 1,
        (TODAY, "red"): 1, (TODAY, ""): 1,
    }  # fmt: skip
    assert tally.check().ok


def test_scores_written_or_deleted_outside_the_run_are_counted_too(org):
    customer = CustomerFactory(owner=org.csm_a)
    row = score(customer, TODAY, 30)  # a red score, written as a row
    score(customer, YESTERDAY, None)
    HealthScore.objects.filter(pk=row.pk).update(band="yellow", score=60)
    HealthScore.objects.filter(day=YESTERDAY).delete()

    assert tally.stored_counts() == {(TODAY, "yellow"): 1}
    assert tally.check().ok


def test_the_check_names_each_difference_and_the_rebuild_mends_them(scored, capsys):
    HealthBandTally.objects.filter(day=TODAY, band="red").update(scores=5)
    HealthBandTally.objects.filter(day=YESTERDAY, band="").delete()

    report = tally.check()
    assert report.differences == [
        f"{YESTERDAY} none: 1 scores, the tally says 0",
        f"{TODAY} red: 1 scores, the tally says 5",
    ]
    with pytest.raises(CommandError, match="differs from the scores in 2 cells"):
        call_command("health_tally", "--check")

    call_command("health_tally")
    call_command("health_tally", "--check")

    out = capsys.readouterr().out
    assert "Rebuilt the tally: 6 days × bands" in out
    assert "The tally equals the scores: 6 days × bands checked" in out
    assert tally.check().ok


# --- Who reads it -------------------------------------------------------------------------------------------


def trend_of(user):
    return [(point.day, point.counts) for point in health_overview(user).trend]


def read_tables(user) -> set[str]:
    with CaptureQueriesContext(connection) as queries:
        health_overview(user)
    return {
        table
        for table in ("health_healthbandtally", "health_healthscore")
        if any(table in q["sql"] for q in queries.captured_queries)
    }


def test_the_nightly_mend_rebuilds_a_band_tally_that_differs(scored, caplog):
    from health.tasks import band_tally_mend

    assert band_tally_mend.delay().get()["rebuilt"] is False
    HealthBandTally.objects.filter(band="green").update(scores=99)

    with caplog.at_level("ERROR", logger="core.tally"):
        report = band_tally_mend.delay().get()

    logged = [r for r in caplog.records if r.name == "core.tally"]
    assert (report["tally"], report["differences"], report["rebuilt"]) == ("health bands", 2, True)
    assert [r.first for r in logged] == [
        [f"{day} green: 1 scores, the tally says 99" for day in (clock.today() - timedelta(days=1), clock.today())]
    ]
    assert tally.check().ok


def test_who_reads_the_tally(org):
    CustomerFactory(owner=org.csm_a)
    CustomerFactory(owner=None, implementation_manager=org.ism_a)  # team A's through its ISM
    tally_only, live = {"health_healthbandtally"}, {"health_healthscore"}

    assert read_tables(org.admin) == read_tables(org.viewer_all) == tally_only  # by rule
    assert read_tables(org.leader_a) == read_tables(org.viewer_a) == tally_only  # team A is everyone
    assert read_tables(org.csm_a) == read_tables(org.leader_b) == live

    # a customer nobody of team A is responsible for: no owner, another team's, or churned
    stray = CustomerFactory(owner=None)
    assert read_tables(org.leader_a) == live
    Customer.objects.filter(pk=stray.pk).update(owner=org.csm_b)
    assert read_tables(org.leader_a) == live
    Customer.objects.filter(pk=stray.pk).update(stage="churned")
    assert read_tables(org.leader_a) == live
    assert read_tables(org.admin) == tally_only
    # the leader's own customer of another team's CSM is hers too
    Customer.objects.filter(pk=stray.pk).update(farmer=org.leader_a)
    assert read_tables(org.leader_a) == tally_only


def test_the_overview_reads_the_tally_for_someone_who_sees_everyone_and_counts_the_same(org):
    week = TODAY - timedelta(weeks=1)
    lucas = CustomerFactory(owner=org.csm_a)
    beatriz = CustomerFactory(owner=org.csm_a2)
    score(lucas, week, 30)
    score(lucas, TODAY, 90)
    score(beatriz, week, None)
    score(beatriz, TODAY - timedelta(days=3), 60)  # not a weekly point
    score(beatriz, TODAY, 60)
    expected = [
        (week, {"red": 1, "yellow": 0, "green": 0, "none": 1}),
        (TODAY, {"red": 0, "yellow": 1, "green": 1, "none": 0}),
    ]

    # the leader of team A sees both customers: the tally, as the admin
    assert trend_of(org.leader_a) == trend_of(org.admin) == expected
    assert read_tables(org.leader_a) == read_tables(org.admin) == {"health_healthbandtally"}
    # a CSM counts their own scores
    assert trend_of(org.csm_a) == [
        (week, {"red": 1, "yellow": 0, "green": 0, "none": 0}),
        (TODAY, {"red": 0, "yellow": 0, "green": 1, "none": 0}),
    ]
    assert read_tables(org.csm_a) == {"health_healthscore"}

    # once another team has a scored customer, the leader counts her own customers' scores; the admin's
    # tally counts it
    camila = CustomerFactory(owner=org.csm_b)
    score(camila, TODAY, 10)
    assert trend_of(org.leader_a) == expected
    assert "health_healthbandtally" not in read_tables(org.leader_a)
    assert trend_of(org.admin) == [expected[0], (TODAY, {"red": 1, "yellow": 1, "green": 1, "none": 0})]

    # a day whose every score was deleted is no point, as when counted
    Customer.objects.filter(pk__in=[lucas.pk, beatriz.pk, camila.pk]).delete()
    assert trend_of(org.admin) == []


def test_the_overview_takes_the_same_queries_for_everyone_as_scores_grow(org, client_for,
                                                                         django_assert_max_num_queries):  # fmt: skip
    lucas = CustomerFactory(owner=org.csm_a)
    score(lucas, TODAY, 30)
    admin, leader = client_for(org.admin), client_for(org.leader_a)
    admin.get("/health/")
    leader.get("/health/")

    with django_assert_max_num_queries(10) as admin_before:
        admin.get("/health/")
    with django_assert_max_num_queries(10) as leader_before:
        leader.get("/health/")
    for i in range(5):
        c = CustomerFactory(owner=org.csm_a2, name=f"Cliente extra {i}")
        for weeks in range(3):
            score(c, TODAY - timedelta(weeks=weeks), 20 + i * 15)
    with django_assert_max_num_queries(10) as admin_after:
        response = admin.get("/health/")
    with django_assert_max_num_queries(10) as leader_after:
        leader.get("/health/")

    assert response.status_code == 200
    assert len(admin_after.captured_queries) == len(admin_before.captured_queries)
    assert len(leader_after.captured_queries) == len(leader_before.captured_queries)
    # the leader's three more: her teams' people, read once for the request, and whether her door lets her through to
    # every customer (two reads); an admin's does by rule
    assert len(leader_after.captured_queries) == len(admin_after.captured_queries) + 3
