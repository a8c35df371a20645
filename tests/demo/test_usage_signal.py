"""The demo's usage: about 13 months of it, within each customer's seats, deterministic, and carrying the signal a
health score should find: customers who later open a churn request or churn use less in the months before."""

from collections import defaultdict
from datetime import date, timedelta
from statistics import median

import pytest
from django.db.models import Max, Min
from django.utils import timezone

from demo.health import history_days
from demo.people import seed_people
from demo.portfolio import seed_portfolio
from demo.usage import HISTORY_DAYS, _plans, seed_usage, usage_rows
from health.models import UsageDay
from portfolio.models import ChurnRequest, Customer, Stage, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_usage():
    seed_people()
    seed_portfolio(customers=300, journeys=0)
    plans, _licences = _plans(timezone.localdate(), 2026)
    lines = seed_usage(customers=300)
    return {plan.customer_id: plan for plan in plans}, lines


def user_days(rows: dict, start, end) -> int:
    return sum(users for day, users in rows.items() if start <= day < end)


def test_usage_spans_13_months_within_the_seats_of_each_customer(demo_usage):
    _plans_by_customer, lines = demo_usage
    today = timezone.localdate()
    span = UsageDay.objects.aggregate(first=Min("day"), last=Max("day"))

    assert lines[0].startswith("usage: ")
    assert f"for {len(_plans_by_customer)} customers" in lines[0]
    assert len(_plans_by_customer) > 280  # all but those gone before the history starts
    assert span["first"] == today - timedelta(days=HISTORY_DAYS)
    assert span["last"] == today - timedelta(days=1)
    licences = dict(Customer.objects.filter(licences__isnull=False).values_list("pk", "licences"))
    seats = dict(Subscription.objects.filter(seats__isnull=False).values_list("customer_id", "seats"))
    assert 50 < len(licences) < 150  # about a third
    with_subscriptions = set(Subscription.objects.values_list("customer_id", flat=True)) & set(_plans_by_customer)
    assert with_subscriptions <= set(licences) | set(seats)
    most = dict(UsageDay.objects.values_list("customer").annotate(n=Max("active_users")).order_by())
    assert all(most[pk] <= (licences.get(pk) or seats[pk]) for pk in most)
    # a churned customer has no usage from its churn on
    for pk, changed_at in Customer.objects.filter(stage=Stage.CHURNED).values_list("pk", "stage_changed_at"):
        last = UsageDay.objects.filter(customer_id=pk).aggregate(last=Max("day"))["last"]
        assert last is None or last < timezone.localdate(changed_at)


def test_customers_who_later_ask_to_leave_use_less_in_the_months_before(demo_usage):
    plans, _lines = demo_usage
    today = timezone.localdate()
    start = today - timedelta(days=HISTORY_DAYS)
    rows: dict[int, dict] = defaultdict(dict)
    for customer_id, day, users in UsageDay.objects.values_list("customer_id", "day", "active_users"):
        rows[customer_id][day] = users
    first_trouble = {}
    for customer_id, requested_on in ChurnRequest.objects.order_by("requested_on").values_list(
        "customer_id", "requested_on"
    ):
        first_trouble.setdefault(customer_id, requested_on)

    # given those whose first churn request came with at least six months of usage before it
    troubled = [
        pk for pk, day in first_trouble.items() if pk in plans and plans[pk].first_day + timedelta(days=180) <= day
    ]
    steady = [pk for pk, plan in plans.items() if not plan.troubles and plan.first_day <= start]
    assert len(troubled) >= 10
    assert len(steady) >= 50

    # then in the month before the request they used less than five months earlier, nearly all of them
    falling = [
        user_days(rows[pk], day - timedelta(days=30), day)
        < 0.7 * user_days(rows[pk], day - timedelta(days=180), day - timedelta(days=150))
        for pk, day in ((pk, first_trouble[pk]) for pk in troubled)
    ]
    assert sum(falling) >= 0.9 * len(falling)
    # while the customers with no trouble mostly held steady or grew over the same stretch of their last months
    holding = [
        user_days(rows[pk], today - timedelta(days=30), today)
        >= 0.7 * user_days(rows[pk], today - timedelta(days=180), today - timedelta(days=150))
        for pk in steady
    ]
    assert sum(holding) >= 0.75 * len(holding)

    # and per seat, the month before a churn request is well below a steady customer's month
    def per_seat(pk, end):
        return user_days(rows[pk], end - timedelta(days=30), end) / plans[pk].seats

    assert median(per_seat(pk, first_trouble[pk]) for pk in troubled) < 0.5 * median(
        per_seat(pk, today) for pk in steady
    )


def test_usage_is_deterministic_and_seeding_again_adds_nothing(demo_usage):
    plans, _lines = demo_usage
    count = UsageDay.objects.count()
    plan = next(iter(plans.values()))

    assert usage_rows(plan, 2026) == usage_rows(plan, 2026)
    assert usage_rows(plan, 2026) != usage_rows(plan, 7)
    assert seed_usage(customers=300) == ["usage: every demo customer already has its usage"]
    assert UsageDay.objects.count() == count
    assert len(usage_rows(plan, 2026)) == UsageDay.objects.filter(customer_id=plan.customer_id).count()


def test_the_health_history_covers_the_months_the_weekly_trend_and_yesterday():
    days = history_days(date(2026, 12, 2))

    assert days[0] == date(2026, 1, 1)
    assert days[-2:] == [date(2026, 12, 1), date(2026, 12, 2)]
    assert {date(2026, 12, 2) - timedelta(weeks=k) for k in range(13)} <= set(days)
    assert len(days) == len(set(days)) == 12 + 13 + 1 - 1  # Dec 1 is both a month start and yesterday
