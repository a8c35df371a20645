"""The MRR ledger (DOMAIN.md's movement conventions) against hand-computed cases, its sync, and the
``mrr_recompute`` command that proves the stored ledger agrees with the subscriptions."""

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from portfolio import ledger, services
from portfolio.models import (
    BillingPeriod,
    Customer,
    MovementKind,
    MrrMovement,
    OwnershipPeriod,
    Subscription,
    SubscriptionStatus,
)
from tests.factories import UserFactory
from tests.portfolio.factories import CustomerFactory, hand_off, subscribe

UNTIL = date(2025, 8, 15)


def sub(amount, start, end=None, *, status=SubscriptionStatus.ACTIVE, billing=BillingPeriod.MONTHLY):
    """An unsaved subscription row: the ledger needs only its dates, status, period and amount."""
    if end is not None and status == SubscriptionStatus.ACTIVE:
        status = SubscriptionStatus.CANCELLED
    return Subscription(
        product="Plataforma", amount_cents=amount, start_date=start, end_date=end, status=status, billing_period=billing
    )


def movements(*subscriptions, until=UNTIL):
    return [(m.month, m.kind, m.amount_cents) for m in ledger.compute_movements(list(subscriptions), until=until)]


# --- Classification, hand-computed ---------------------------------------------------------------------------


def test_a_first_paid_month_is_new():
    assert movements(sub(10_000, date(2025, 1, 10))) == [(date(2025, 1, 1), MovementKind.NEW, 10_000)]


def test_a_second_subscription_is_expansion():
    assert movements(sub(10_000, date(2025, 1, 10)), sub(5_000, date(2025, 3, 5))) == [
        (date(2025, 1, 1), MovementKind.NEW, 10_000),
        (date(2025, 3, 1), MovementKind.EXPANSION, 5_000),
    ]


def test_ending_one_of_two_subscriptions_is_contraction_not_churn():
    assert movements(sub(10_000, date(2025, 1, 10)), sub(5_000, date(2025, 1, 20), date(2025, 4, 20))) == [
        (date(2025, 1, 1), MovementKind.NEW, 15_000),
        (date(2025, 4, 1), MovementKind.CONTRACTION, 5_000),
    ]


def test_churn_only_when_the_last_subscription_ends():
    assert movements(
        sub(10_000, date(2025, 1, 10), date(2025, 4, 10)), sub(5_000, date(2025, 1, 10), date(2025, 5, 3))
    ) == [
        (date(2025, 1, 1), MovementKind.NEW, 15_000),
        (date(2025, 4, 1), MovementKind.CONTRACTION, 10_000),
        (date(2025, 5, 1), MovementKind.CHURN, 5_000),
    ]


def test_paying_again_after_churn_is_reactivation_not_new():
    assert movements(sub(10_000, date(2025, 1, 10), date(2025, 3, 15)), sub(8_000, date(2025, 5, 2))) == [
        (date(2025, 1, 1), MovementKind.NEW, 10_000),
        (date(2025, 3, 1), MovementKind.CHURN, 10_000),
        (date(2025, 5, 1), MovementKind.REACTIVATION, 8_000),
    ]


def test_an_annual_plan_counts_a_twelfth_rounded_to_the_cent():
    assert movements(sub(120_000, date(2025, 2, 1), billing=BillingPeriod.ANNUAL)) == [
        (date(2025, 2, 1), MovementKind.NEW, 10_000)
    ]
    assert movements(sub(100_000, date(2025, 2, 1), billing=BillingPeriod.ANNUAL)) == [
        (date(2025, 2, 1), MovementKind.NEW, 8_333)
    ]
    assert movements(sub(30_000, date(2025, 2, 1), billing=BillingPeriod.QUARTERLY)) == [
        (date(2025, 2, 1), MovementKind.NEW, 10_000)
    ]


def test_trials_and_one_off_charges_count_zero():
    trial = sub(10_000, date(2025, 1, 5), date(2025, 2, 10), status=SubscriptionStatus.TRIAL)
    paid = sub(10_000, date(2025, 2, 10))
    setup_fee = sub(500_000, date(2025, 1, 5), billing=BillingPeriod.ONE_OFF)
    assert movements(trial, paid, setup_fee) == [(date(2025, 2, 1), MovementKind.NEW, 10_000)]


def test_a_delinquent_subscription_still_counts_until_cancelled():
    delinquent = sub(10_000, date(2025, 1, 10), status=SubscriptionStatus.DELINQUENT)
    assert movements(delinquent) == [(date(2025, 1, 1), MovementKind.NEW, 10_000)]
    assert ledger.mrr_on([delinquent], UNTIL) == 10_000


def test_changes_within_a_month_net_at_month_end():
    # 100 → 150 on Mar 10 → 120 on Mar 20: one expansion of 20; an add-on that starts and ends in April: nothing.
    rows = [
        sub(10_000, date(2025, 1, 10), date(2025, 3, 10), status=SubscriptionStatus.REPLACED),
        sub(15_000, date(2025, 3, 10), date(2025, 3, 20), status=SubscriptionStatus.REPLACED),
        sub(12_000, date(2025, 3, 20)),
        sub(4_000, date(2025, 4, 3), date(2025, 4, 25)),
    ]
    assert movements(*rows) == [
        (date(2025, 1, 1), MovementKind.NEW, 10_000),
        (date(2025, 3, 1), MovementKind.EXPANSION, 2_000),
    ]


def test_an_end_date_is_the_first_day_without_the_subscription():
    # Ending on the last day of February: not in force at February's end. Ending on March 1st: still in force
    # on February 28th, so the churn is March's.
    ends_on_the_last_day = sub(10_000, date(2025, 1, 10), date(2025, 2, 28))
    ends_on_the_first = sub(10_000, date(2025, 1, 10), date(2025, 3, 1))
    assert movements(ends_on_the_last_day)[-1] == (date(2025, 2, 1), MovementKind.CHURN, 10_000)
    assert movements(ends_on_the_first)[-1] == (date(2025, 3, 1), MovementKind.CHURN, 10_000)


LONG_STORY = [
    sub(10_000, date(2024, 1, 15), date(2024, 6, 1), status=SubscriptionStatus.REPLACED),
    sub(14_000, date(2024, 6, 1), date(2025, 1, 20)),
    sub(3_000, date(2024, 3, 3), date(2024, 9, 9)),
    sub(240_000, date(2024, 4, 1), date(2025, 1, 5), billing=BillingPeriod.ANNUAL),
    sub(9_000, date(2025, 3, 1), date(2025, 3, 20), status=SubscriptionStatus.TRIAL),
    sub(9_000, date(2025, 3, 20)),
]
SIGN = {"new": 1, "expansion": 1, "reactivation": 1, "contraction": -1, "churn": -1}


def test_start_plus_movements_equals_end_for_every_month_of_a_long_story():
    # given: new, expansion (add-on, annual plan, upgrade), contraction, churn, a trial and a reactivation
    months = ledger.months_between(date(2024, 1, 1), UNTIL)
    computed = ledger.compute_movements(LONG_STORY, until=UNTIL)
    # when: month-end MRR straight from the subscriptions
    levels = [ledger.mrr_on(LONG_STORY, ledger.month_end(month)) for month in months]
    starts = [0, *levels[:-1]]
    signed = {m.month: SIGN[m.kind] * m.amount_cents for m in computed}
    # then
    assert [start + signed.get(month, 0) for start, month in zip(starts, months, strict=True)] == levels
    by_month = dict(zip(months, zip(starts, levels, strict=True), strict=True))
    assert [(m.mrr_start_cents, m.mrr_end_cents) for m in computed] == [by_month[m.month] for m in computed]


def test_the_long_story_classifies_each_month():
    # The annual plan ends on Jan 5 and the main plan on Jan 20: one churn of everything left in January.
    assert movements(*LONG_STORY) == [
        (date(2024, 1, 1), MovementKind.NEW, 10_000),
        (date(2024, 3, 1), MovementKind.EXPANSION, 3_000),
        (date(2024, 4, 1), MovementKind.EXPANSION, 20_000),
        (date(2024, 6, 1), MovementKind.EXPANSION, 4_000),
        (date(2024, 9, 1), MovementKind.CONTRACTION, 3_000),
        (date(2025, 1, 1), MovementKind.CHURN, 34_000),
        (date(2025, 3, 1), MovementKind.REACTIVATION, 9_000),
    ]


# --- sync_customer --------------------------------------------------------------------------------------------


def today():
    return timezone.localdate()


def months_ago(months: int) -> date:
    return ledger.add_months(ledger.month_start(today()), -months)


def ledger_rows(customer) -> list[tuple]:
    return list(
        MrrMovement.objects.filter(customer=customer)
        .order_by("month")
        .values_list("pk", "month", "kind", "amount_cents", "mrr_start_cents", "mrr_end_cents")
    )


@pytest.fixture
def paying(db):
    """A customer with a story: new four months ago, an add-on two months ago, the add-on cancelled last month."""
    csm = UserFactory(full_name="Lucas Almeida")
    customer = CustomerFactory(start_date=months_ago(4), owner=csm)
    subscribe(customer, amount_cents=100_000, start=months_ago(4))
    add_on = subscribe(customer, amount_cents=30_000, start=months_ago(2), product="BI Avançado")
    services.subscription_cancel(subscription=add_on, actor=None, end_date=months_ago(1) + timedelta(days=3))
    customer.refresh_from_db()
    return customer


def test_sync_customer_is_idempotent(paying, django_assert_num_queries):
    before = ledger_rows(paying)
    assert [row[2] for row in before] == [MovementKind.NEW, MovementKind.EXPANSION, MovementKind.CONTRACTION]
    # Nothing differs: read subscriptions and rows, one conditional update of the MRR, no writes of rows.
    with django_assert_num_queries(3):
        ledger.sync_customer(paying)
    ledger.sync_customer(Customer.objects.get(pk=paying.pk))
    assert ledger_rows(paying) == before
    assert Customer.objects.get(pk=paying.pk).mrr_cents == 100_000


def test_sync_customer_rewrites_only_what_differs(paying):
    new, expansion, contraction = ledger_rows(paying)
    MrrMovement.objects.filter(pk=expansion[0]).update(amount_cents=1)
    MrrMovement.objects.filter(pk=contraction[0]).delete()
    MrrMovement.objects.create(
        customer=paying, month=months_ago(3), kind="expansion", amount_cents=5, mrr_start_cents=0, mrr_end_cents=5,
        segment=paying.segment, plan_tier=paying.plan_tier, service_model=paying.service_model,
    )  # fmt: skip
    Customer.objects.filter(pk=paying.pk).update(mrr_cents=7)

    ledger.sync_customer(Customer.objects.get(pk=paying.pk))

    after = ledger_rows(paying)
    assert after[0] == new
    assert [row[1:] for row in after] == [row[1:] for row in (new, expansion, contraction)]
    assert Customer.objects.get(pk=paying.pk).mrr_cents == 100_000


def test_sync_ignores_a_stale_prefetch_of_subscriptions(paying):
    # The customer page loads subscriptions with prefetch_related; a change made with that instance must still
    # count the new subscription.
    customer = Customer.objects.prefetch_related("subscriptions", "mrr_movements").get(pk=paying.pk)
    subscribe(customer, amount_cents=20_000, start=ledger.month_start(today()), product="API Premium")
    assert ledger_rows(customer)[-1][2:] == (MovementKind.EXPANSION, 20_000, 100_000, 120_000)
    assert Customer.objects.get(pk=paying.pk).mrr_cents == 120_000


def test_ledger_rows_are_sliced_by_the_owner_at_the_start_of_the_month(db):
    first, second = UserFactory(), UserFactory()
    customer = CustomerFactory(start_date=months_ago(3), owner=first)
    now = timezone.now()
    # History imported before the customer existed in Leme, then reassigned this month.
    OwnershipPeriod.objects.filter(customer=customer).update(started_at=now - timedelta(days=40), ended_at=now)
    OwnershipPeriod.objects.create(customer=customer, owner=second, started_at=now)
    Customer.objects.filter(pk=customer.pk).update(owner=second)
    customer.refresh_from_db()
    periods = list(customer.ownership_periods.all())
    assert ledger.owner_at(customer, periods, months_ago(3)) == first.pk
    assert ledger.owner_at(customer, periods, (now - timedelta(days=20)).date()) == first.pk
    assert ledger.owner_at(customer, periods, today() + timedelta(days=1)) == second.pk


# --- mrr_recompute ------------------------------------------------------------------------------------------


def run_recompute(capsys, **options) -> str:
    call_command("mrr_recompute", **options)
    return capsys.readouterr().out


@pytest.fixture
def portfolio_with_history(paying):
    """Three customers with movements of every kind, in two slices."""
    other_csm = UserFactory(full_name="Beatriz Santos")
    churned = CustomerFactory(start_date=months_ago(5), segment="smb", plan_tier="essential")
    first = subscribe(churned, amount_cents=50_000, start=months_ago(5))
    hand_off(churned, other_csm, held_on=months_ago(5) + timedelta(days=20))
    services.subscription_cancel(subscription=first, actor=None, end_date=months_ago(3))
    subscribe(churned, amount_cents=40_000, start=months_ago(1) + timedelta(days=5))
    annual = CustomerFactory(start_date=months_ago(2), segment="enterprise")
    subscribe(annual, amount_cents=1_200_000, start=months_ago(2), billing_period="annual")
    return [paying, churned, annual]


def test_recompute_check_passes_on_good_data(portfolio_with_history, capsys):
    out = run_recompute(capsys, check=True)
    assert "Checked 3 customers over 6 months" in out
    assert "agrees" in out


def test_recompute_check_fails_when_a_movement_is_tampered_with_and_fix_repairs_it(portfolio_with_history, capsys):
    # given: a movement row edited by hand, one deleted, and a customer's MRR out of date
    paying, churned, _annual = portfolio_with_history
    tampered = MrrMovement.objects.get(customer=paying, kind=MovementKind.EXPANSION)
    MrrMovement.objects.filter(pk=tampered.pk).update(amount_cents=tampered.amount_cents + 1)
    MrrMovement.objects.filter(customer=churned, kind=MovementKind.REACTIVATION).delete()
    # when / then: --check names what differs and fails
    with pytest.raises(CommandError, match="2 customers differ"):
        call_command("mrr_recompute", check=True)
    out = capsys.readouterr().out
    assert f"customer {paying.pk} ({paying.name}) {tampered.month:%Y-%m}: stored expansion 30001" in out
    assert "missing row, expected reactivation 40000" in out
    assert f"identity fails: {tampered.month:%Y-%m} overall" in out
    assert f"owner={paying.owner_id}" in out
    # --fix rewrites those customers and checks again
    out = run_recompute(capsys, fix=True)
    assert "Rewrote the ledger of 2 customers" in out
    assert "agrees" in out
    assert MrrMovement.objects.get(customer=paying, kind=MovementKind.EXPANSION).amount_cents == 30_000
    assert "agrees" in run_recompute(capsys, check=True)


def test_recompute_check_notices_a_stale_customer_mrr(portfolio_with_history, capsys):
    paying = portfolio_with_history[0]
    Customer.objects.filter(pk=paying.pk).update(mrr_cents=1)
    with pytest.raises(CommandError, match="1 customers differ"):
        call_command("mrr_recompute")
    assert "mrr_cents is 1, subscriptions say 100000" in capsys.readouterr().out
    run_recompute(capsys, fix=True)
    assert Customer.objects.get(pk=paying.pk).mrr_cents == 100_000


def test_recompute_accepts_a_subscription_that_starts_next_month(portfolio_with_history, capsys):
    signed = CustomerFactory(start_date=ledger.add_months(ledger.month_start(today()), 1))
    subscribe(signed, amount_cents=10_000)
    assert not signed.mrr_movements.exists()
    assert "Checked 4 customers" in run_recompute(capsys)


def test_recompute_reads_customers_in_chunks(portfolio_with_history, capsys, django_assert_max_num_queries):
    # 3 customers in chunks of 1: four reads of customers, three of subscriptions and rows, five aggregates.
    with django_assert_max_num_queries(4 + 3 * 2 + 5):
        out = run_recompute(capsys, chunk=1)
    assert "Checked 3 customers" in out


def test_a_trial_converted_through_the_services_counts_zero_for_its_trial_month(db):
    customer = CustomerFactory(start_date=months_ago(2) + timedelta(days=20))
    trial = subscribe(customer, amount_cents=100_000, start=customer.start_date, status=SubscriptionStatus.TRIAL)
    services.subscription_change(
        subscription=trial, actor=None, effective_date=months_ago(1) + timedelta(days=4), status="active"
    )
    assert [(m.month, m.kind) for m in customer.mrr_movements.order_by("month")] == [(months_ago(1), "new")]
