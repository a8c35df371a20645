"""The UTI board's outcomes: exits by decision, and of the stays begun 90 days ago or more, how many customers still
paid 90 days after entering (no churn in the ledger from the month they entered to 90 days after); and its latest
exits, newest first. Counted in the database whatever the number of stays, through the door."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio.ledger import month_start
from portfolio.models import ChurnReason, ChurnRequest, MovementKind, MrrMovement, UtiExit, UtiStay
from portfolio.selectors import uti_board, uti_outcomes
from tests.portfolio.factories import CustomerFactory

TODAY = date(2026, 12, 4)


def stay(customer, started_on: date, exit: str = UtiExit.OPEN, exited_on: date | None = None) -> UtiStay:
    request = ChurnRequest.objects.create(
        customer=customer,
        kind="voluntary",
        reason=ChurnReason.objects.get(code="budget-cut"),
        detail="orçamento",
        requested_on=started_on,
        outcome="recovered",
    )
    return UtiStay.objects.create(
        customer=customer,
        churn_request=request,
        started_on=started_on,
        ends_on=started_on + timedelta(days=30),
        exit=exit,
        exited_on=exited_on,
    )


def churn(customer, month: date) -> None:
    MrrMovement.objects.create(
        customer=customer,
        month=month,
        kind=MovementKind.CHURN,
        amount_cents=100_000,
        mrr_start_cents=100_000,
        mrr_end_cents=0,
        segment=customer.segment,
        plan_tier=customer.plan_tier,
        service_model=customer.service_model,
    )


@pytest.fixture
def stays(org):
    """Six stays of the CSM's customers and one of another team's."""
    mine = {name: CustomerFactory(owner=org.csm_a, name=name) for name in "ABCDEF"}
    entered = TODAY - timedelta(days=120)  # 2026-08-06: mature
    stay(mine["A"], entered, UtiExit.RECOVERED, entered + timedelta(days=30))  # still paying: no churn
    stay(mine["B"], entered, UtiExit.CHURNED, entered + timedelta(days=20))
    churn(mine["B"], month_start(entered))  # churned in the month it entered: not paying
    stay(mine["C"], entered, UtiExit.RECOVERED, entered + timedelta(days=31))
    churn(mine["C"], month_start(entered + timedelta(days=130)))  # churned in a month after those 90 days: paying then
    stay(mine["D"], entered, UtiExit.RECOVERED, entered + timedelta(days=32))
    churn(mine["D"], month_start(entered) - timedelta(days=31))  # a churn before it entered (an earlier life)
    stay(mine["E"], entered, UtiExit.CHURNED, entered + timedelta(days=33))
    churn(mine["E"], month_start(entered + timedelta(days=88)))  # within 90 days: not paying
    stay(mine["F"], TODAY - timedelta(days=10))  # open, too recent to count
    stay(CustomerFactory(owner=org.csm_b, name="Outra"), entered, UtiExit.CHURNED, entered + timedelta(days=40))
    return mine


def test_the_outcomes_count_the_customers_still_paying_90_days_after_entering(org, stays):
    outcomes = uti_outcomes(org.csm_a, today=TODAY)

    assert outcomes == {"in_uti": 1, "recovered": 3, "churned": 2, "mature": 5, "paying_after_90": 3}


def test_the_outcomes_take_two_queries_however_many_stays(org, stays, django_assert_num_queries):
    with django_assert_num_queries(2):
        uti_outcomes(org.csm_a, today=TODAY)
    for n in range(10):
        stay(CustomerFactory(owner=org.csm_a), TODAY - timedelta(days=100 + n), UtiExit.RECOVERED, TODAY)
    with CaptureQueriesContext(connection) as queries:
        counted = uti_outcomes(org.csm_a, today=TODAY)
    assert len(queries) == 2
    assert counted["mature"] == 15


def test_the_board_shows_the_latest_exits_newest_first_through_the_door(org, stays):
    board = uti_board(org.csm_a, page_number=1, per_page=50)

    assert [s.customer.name for s in board.recent] == ["E", "D", "C", "A", "B"]
    assert [s.customer.name for s in board.page] == ["F"]
    leader = uti_board(org.leader_a, page_number=1, per_page=50)
    assert "Outra" not in [s.customer.name for s in leader.recent]  # another team's
