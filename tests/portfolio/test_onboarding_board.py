"""The onboarding board a page at a time: the customers in onboarding by start date, after the last shown one's
key (the "Show more" row brings the next ones in its place), and the pace per ISM, in a fixed number of queries."""

import re
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import request_memo
from portfolio import selectors, services, tally
from portfolio.models import Customer, FirstValueTally, Milestone
from portfolio.selectors import boards
from tests.factories import UserFactory
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# The session and the user; for the leader, her teams' people (read once for the request) and whether her door lets
# her through to every customer (the people outside her teams, a customer outside it); then the board's page of
# customers, their milestones and the pace per ISM.
BOARD_QUERIES = 2 + 3 + 3
# The next rows alone: the session and the user, the leader's door as above, the customers and their milestones.
ROWS_QUERIES = 2 + 3 + 2


def names(html: str) -> list[str]:
    return re.findall(r"<strong>(Cliente [^<]+)</strong>", html)


@pytest.fixture
def onboardings(org):
    """Five onboardings of team A started on four days (two the same day, created in that order) and one of team B."""
    today = timezone.localdate()
    made = {}
    starts = [("Cliente E", 1), ("Cliente A", 30), ("Cliente C", 10), ("Cliente D", 10), ("Cliente B", 20)]
    for name, days_ago in starts:
        made[name] = CustomerFactory(
            name=name, owner=org.csm_a, implementation_manager=org.ism_a, start_date=today - timedelta(days=days_ago)
        )
    made["Cliente B2"] = CustomerFactory(name="Cliente B2", owner=org.csm_b, start_date=today - timedelta(days=25))
    return made


def test_the_board_pages_by_start_date_then_creation_and_each_page_starts_after_the_last_key(org, onboardings):
    first, after = selectors.onboarding_customers(org.leader_a, per_page=2)
    assert [c.name for c in first] == ["Cliente A", "Cliente B"]
    assert after == f"{onboardings['Cliente B'].start_date.isoformat()}.{onboardings['Cliente B'].pk}"

    key = selectors.parse_onboarding_key(after)
    second, after = selectors.onboarding_customers(org.leader_a, after=key, per_page=2)
    assert [c.name for c in second] == ["Cliente C", "Cliente D"]  # the same start: by creation

    last, after = selectors.onboarding_customers(org.leader_a, after=selectors.parse_onboarding_key(after), per_page=2)
    assert [c.name for c in last] == ["Cliente E"]
    assert after == ""
    # each comes with its milestones (first value, first success)
    assert [m.kind for m in last[0].milestone_list] == ["first_value", "first_success"]


@pytest.mark.parametrize("value", [None, "", "amanhã", "2026-13-01.4", "2026-01-01", "2026-01-01.x"])
def test_a_key_that_is_not_one_gives_the_first_page(value):
    assert selectors.parse_onboarding_key(value) is None


def test_the_page_shows_a_page_of_customers_and_a_row_that_brings_the_next_ones(
    org, onboardings, client_for, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(boards, "ONBOARDING_PAGE", 2)
    client = client_for(org.leader_a)
    client.get("/onboarding/")  # the session's first read

    with django_assert_num_queries(BOARD_QUERIES):
        page = client.get("/onboarding/").text
    assert names(page) == ["Cliente A", "Cliente B"]
    more = re.search(r'<tr id="onboarding-more">.*?hx-get="/onboarding/\?after=([^"]+)"', page).group(1)

    # htmx asks for the rows after the last one: only them, and the row for the ones after
    with django_assert_num_queries(ROWS_QUERIES):
        rows = client.get(f"/onboarding/?after={more}", HTTP_HX_REQUEST="true").text
    assert "<html" not in rows
    assert "Tempo até o primeiro valor" not in rows  # not the pace again
    assert names(rows) == ["Cliente C", "Cliente D"]
    assert rows.count('id="onboarding-more"') == 1
    after = re.search(r'hx-get="/onboarding/\?after=([^"]+)"', rows).group(1)
    rows = client.get(f"/onboarding/?after={after}", HTTP_HX_REQUEST="true").text
    assert names(rows) == ["Cliente E"]
    assert "onboarding-more" not in rows  # the last page

    # without htmx the link is the whole board from there, with a way back to the start
    plain = client.get(f"/onboarding/?after={more}").text
    assert names(plain) == ["Cliente C", "Cliente D"]
    assert "Tempo até o primeiro valor" in plain
    assert 'href="/onboarding/"' in plain

    # and a team B leader's board pages through team B's only
    assert names(client_for(org.leader_b).get("/onboarding/").text) == ["Cliente B2"]


def test_the_board_reads_in_the_same_queries_however_many_are_onboarding(org, client_for, django_assert_num_queries):
    client = client_for(org.leader_a)
    CustomerFactory(owner=org.csm_a, implementation_manager=org.ism_a)
    client.get("/onboarding/")
    with django_assert_num_queries(BOARD_QUERIES):
        client.get("/onboarding/")
    CustomerFactory.create_batch(4, owner=org.csm_a2)
    with django_assert_num_queries(BOARD_QUERIES):
        assert len(names(client.get("/onboarding/").text)) == 5


def test_the_pace_counts_each_isms_first_values_of_the_customers_the_person_sees(org):
    # given, for the ISM: first values in 4 days (target 30: on time) and in 40 (late), a customer with none reached;
    # a first value in 10 days of a customer with no ISM; and team B's customer's (not the team A leader's)
    today = timezone.localdate()

    def reached(days_after_start, **people):
        customer = CustomerFactory(start_date=today - timedelta(days=60), **people)
        milestone = customer.milestones.get(kind="first_value")
        services.milestone_achieve(
            milestone=milestone, achieved_on=customer.start_date + timedelta(days=days_after_start), actor=None
        )
        return milestone

    on_time = reached(4, owner=org.csm_a, implementation_manager=org.ism_a)
    late = reached(40, owner=org.csm_a2, implementation_manager=org.ism_a)
    assert on_time.achieved_on <= on_time.target_date < late.achieved_on
    CustomerFactory(owner=org.csm_a, implementation_manager=org.ism_a)
    reached(10, owner=org.csm_a)
    reached(3, owner=org.csm_b, implementation_manager=org.ism_a)

    # then the leader reads the ISM's two (one on time, 22 days on average) and the one with no ISM last
    assert selectors.onboarding_pace(org.leader_a) == [
        {"ism": "Juliana Pereira", "reached": 2, "on_time_rate": 0.5, "avg_days": 22},
        {"ism": "—", "reached": 1, "on_time_rate": 1.0, "avg_days": 10},
    ]
    # and the ISM herself the three she ran, whoever's team (4, 40, 3: 15 days and 2 of 3 on time)
    assert selectors.onboarding_pace(org.ism_a) == [
        {"ism": "Juliana Pereira", "reached": 3, "on_time_rate": 2 / 3, "avg_days": 15},
    ]


@pytest.mark.parametrize(
    ("today", "since"),
    [
        (date(2026, 12, 4), date(2025, 12, 4)),
        (date(2028, 2, 29), date(2027, 2, 28)),  # a leap day: the year before has none
        (date(2026, 1, 1), date(2025, 1, 1)),
    ],
)
def test_the_pace_window_starts_the_same_day_a_year_before(today, since):
    assert selectors.pace_since(today) == since


def test_the_pace_counts_the_first_values_reached_in_the_last_12_months_of_the_customers_the_person_sees(org):
    # given first values reached on the window's first day, the day before it, and today, by the team's ISM
    today = date(2026, 12, 4)
    since = selectors.pace_since(today)

    def reached(on, days_after_start, **people):
        customer = CustomerFactory(start_date=on - timedelta(days=days_after_start), **people)
        milestone = customer.milestones.get(kind="first_value")
        services.milestone_achieve(milestone=milestone, achieved_on=on, actor=None)
        return milestone

    reached(since, 10, owner=org.csm_a, implementation_manager=org.ism_a)  # in: the first day
    reached(since - timedelta(days=1), 90, owner=org.csm_a, implementation_manager=org.ism_a)  # out: the day before
    reached(today, 41, owner=org.csm_a2, implementation_manager=org.ism_a)  # in: today, late (target 30 days)
    reached(today - timedelta(days=5), 3, owner=org.csm_b)  # team B's, no ISM
    CustomerFactory(owner=org.csm_a, implementation_manager=org.ism_a, start_date=today)  # none reached

    # then the team A leader reads the ISM's two in the window (10 and 41 days: 25 on average, one on time)
    assert selectors.onboarding_pace(org.leader_a, today=today) == [
        {"ism": "Juliana Pereira", "reached": 2, "on_time_rate": 0.5, "avg_days": 25},
    ]
    # a day later the first one is out of the window
    assert selectors.onboarding_pace(org.leader_a, today=today + timedelta(days=1)) == [
        {"ism": "Juliana Pereira", "reached": 1, "on_time_rate": 0.0, "avg_days": 41},
    ]
    # the door: Lucas sees his customer's alone, Beatriz hers, team B's leader team B's
    assert selectors.onboarding_pace(org.csm_a, today=today) == [
        {"ism": "Juliana Pereira", "reached": 1, "on_time_rate": 1.0, "avg_days": 10},
    ]
    assert selectors.onboarding_pace(org.csm_a2, today=today) == [
        {"ism": "Juliana Pereira", "reached": 1, "on_time_rate": 0.0, "avg_days": 41},
    ]
    assert selectors.onboarding_pace(org.leader_b, today=today) == [
        {"ism": "—", "reached": 1, "on_time_rate": 1.0, "avg_days": 3},
    ]


def test_the_board_states_the_pace_window_in_the_persons_language(org, client_for):
    since = selectors.pace_since(timezone.localdate())
    client = client_for(org.leader_a)
    page = client.get("/onboarding/").text
    assert f"Primeiros valores alcançados nos últimos 12 meses, desde {since:%d/%m/%Y}." in page
    assert "Nenhum primeiro valor alcançado nos últimos 12 meses." in page
    type(org.leader_a).objects.filter(pk=org.leader_a.pk).update(language="en")
    english = client.get("/onboarding/").text
    assert f"First values reached in the last 12 months, since {since:%m/%d/%Y}." in english


def _reach(customer, on):
    milestone = customer.milestones.get(kind="first_value")
    services.milestone_achieve(milestone=milestone, achieved_on=on, actor=None)
    return milestone


def test_the_first_value_tally_follows_every_write_of_milestones_and_customers(org):
    today = timezone.localdate()
    early = CustomerFactory(owner=org.csm_a, implementation_manager=org.ism_a, start_date=today - timedelta(days=50))
    late = CustomerFactory(owner=org.csm_a, start_date=today - timedelta(days=80))
    first = _reach(early, today - timedelta(days=45))
    _reach(late, today - timedelta(days=2))
    assert tally.check().ok
    assert tally.stored_counts() == {
        (today - timedelta(days=45), org.ism_a.pk): (1, 1, 5),
        (today - timedelta(days=2), 0): (1, 0, 78),
    }

    # a first value moved to another day, its target moved, another reached, a customer given an ISM and a new start
    Milestone.objects.filter(pk=first.pk).update(achieved_on=today - timedelta(days=40), target_date=today)
    Customer.objects.filter(pk=late.pk).update(implementation_manager=org.ism_a, start_date=today - timedelta(days=70))
    _reach(CustomerFactory(owner=org.csm_b, start_date=today - timedelta(days=9)), today)
    assert tally.check().ok
    # un-reached, and a customer deleted with its milestones
    Milestone.objects.filter(pk=first.pk).update(achieved_on=None)
    late.delete()
    assert tally.check().ok
    assert tally.stored_counts() == {(today, 0): (1, 1, 9)}
    # and a rebuild gives the same cells
    assert tally.rebuild() == 1
    assert tally.check().ok


def test_the_tally_command_names_a_difference_and_the_rebuild_mends_it(org, capsys):
    today = timezone.localdate()
    _reach(CustomerFactory(owner=org.csm_a, start_date=today - timedelta(days=9)), today)
    FirstValueTally.objects.filter(day=today).update(reached=3)

    assert tally.check().differences == [f"{today} ISM none: (1, 1, 9) reached, on time, days; tally (3, 1, 9)"]
    with pytest.raises(CommandError, match="differs from the milestones in 1 cells"):
        call_command("first_value_tally", "--check")

    call_command("first_value_tally")
    call_command("first_value_tally", "--check")
    assert "The tally equals the milestones: 1 days × ISMs checked" in capsys.readouterr().out


def test_a_leader_who_sees_every_customer_reads_the_tallied_pace_equal_to_the_live_one(org):
    # given only team A's customers (so its leader sees every one), first values by two ISMs, none, and on the
    # window's first day and the day before it
    today = timezone.localdate()
    since = selectors.pace_since(today)
    ism_b = UserFactory(team=org.team_a, role="ism", full_name="Ana Lima")
    for start, reached, ism in [
        (since - timedelta(days=10), since, org.ism_a),
        (since - timedelta(days=40), since - timedelta(days=1), org.ism_a),
        (today - timedelta(days=60), today - timedelta(days=20), org.ism_a),
        (today - timedelta(days=30), today - timedelta(days=3), ism_b),
        (today - timedelta(days=15), today, None),
    ]:
        _reach(CustomerFactory(owner=org.csm_a, implementation_manager=ism, start_date=start), reached)
    live = selectors.onboarding_pace(org.leader_a)  # outside a request: the milestones, through the door
    assert live == [
        {"ism": "Ana Lima", "reached": 1, "on_time_rate": 0.0, "avg_days": 27},  # late: the target is sooner
        {"ism": "Juliana Pereira", "reached": 2, "on_time_rate": 0.5, "avg_days": 25},
        {"ism": "—", "reached": 1, "on_time_rate": 0.0, "avg_days": 15},
    ]
    with request_memo.request_scope():
        assert selectors.page_sees_every_customer(org.leader_a)
        with CaptureQueriesContext(connection) as read:
            assert selectors.onboarding_pace(org.leader_a) == live
        assert "portfolio_firstvaluetally" in read[-1]["sql"]  # the tally's days, not the milestones
        assert "portfolio_milestone" not in read[-1]["sql"]
        # a day later the window's first day is out, in the tally as in the milestones
        tomorrow = today + timedelta(days=1)
        assert selectors.onboarding_pace(org.leader_a, today=tomorrow) == (
            selectors.onboarding_pace(org.csm_a, today=tomorrow)  # the CSM sees the same customers, live
        )
        assert selectors.onboarding_pace(org.leader_a, today=tomorrow)[1]["reached"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_first_value_reached_while_its_customer_moves_to_another_ism_is_tallied_under_the_ism_it_ends_with(org):
    # given a customer of one ISM whose first value is not reached yet
    import threading

    import psycopg

    today = timezone.localdate()
    customer = CustomerFactory(owner=org.csm_a, implementation_manager=org.ism_a, start_date=today - timedelta(days=30))
    milestone = customer.milestones.get(kind="first_value")
    ism_b = UserFactory(team=org.team_a, role="ism")
    settings = connection.settings_dict
    url = f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"

    # when one transaction moves the customer to another ISM and, before it commits, another reaches the first value
    with psycopg.connect(url) as mover, psycopg.connect(url) as reacher:
        mover.execute(
            "UPDATE portfolio_customer SET implementation_manager_id = %s WHERE id = %s", [ism_b.pk, customer.pk]
        )
        reached = threading.Event()

        def reach() -> None:
            reacher.execute("UPDATE portfolio_milestone SET achieved_on = %s WHERE id = %s", [today, milestone.pk])
            reacher.commit()
            reached.set()

        worker = threading.Thread(target=reach)
        worker.start()
        # the first value's trigger waits for the move (its customer is read under a share lock)
        assert not reached.wait(timeout=1.0)
        mover.commit()
        worker.join(timeout=10)
        assert reached.is_set()

    # then the tally counts it under the new ISM, as the milestones say
    assert tally.check().ok
    on_time = int(today <= milestone.target_date)
    assert tally.stored_counts() == {(today, ism_b.pk): (1, on_time, 30)}
