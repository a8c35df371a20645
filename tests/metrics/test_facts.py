"""Each period's figures for the story in conftest.py, hand-computed, from the SQL the rollups use; and the
Python reference computed straight from the ledger agrees customer by customer."""

from datetime import date
from decimal import Decimal

import pytest

from metrics.facts import LedgerHistory, facts_sql, totals_by_slice
from metrics.figures import Totals, headline
from metrics.periods import Period, PeriodKind
from tests.metrics.conftest import TODAY

R = 100
K = 1000 * R  # the story's amounts are multiples of R$ 1.000 / 100 = R$ 10; K keeps the sums readable


def period(kind, month):
    return Period.of(kind, month, current=TODAY.replace(day=1))


def totals(p, **slice_filter) -> Totals:
    facts = facts_sql(p)
    keep = [f for f in facts if all(getattr(f, k) == v for k, v in slice_filter.items())]
    return Totals.sum(f.totals() for f in keep)


def test_june_a_reactivation_and_a_contraction_make_negative_net_churn(story):
    t = totals(period(PeriodKind.MONTH, date(2025, 6, 1)))
    f = headline(t)

    # Start: Alfa 1000, Gama 1000, Delta 700, Zeta 900, Eta 500, Teta 300 (Beta and Épsilon were at 0 in May).
    assert (t.customers_start, t.mrr_start_cents) == (6, 4400 * R)
    assert (t.reactivation_cents, t.contraction_cents, t.new_cents, t.churn_cents) == (600 * R, 300 * R, 0, 0)
    assert (t.customers_end, t.mrr_end_cents) == (7, 4700 * R)
    assert f["net_new"].value == 300 * R == t.mrr_end_cents - t.mrr_start_cents
    assert f["logo_churn"].value == 0
    assert f["gross_mrr_churn"].value == Decimal(300) / Decimal(4400)
    assert f["net_mrr_churn"].value == Decimal(300 - 600) / Decimal(4400)  # negative churn
    assert f["grr"].value == Decimal(4100) / Decimal(4400)
    assert f["nrr"].value == Decimal(4100) / Decimal(4400)  # Beta's return is not a start customer's
    assert f["quick_ratio"].value == Decimal(2)
    assert f["arpa"].value == round(4700 * R / 7)
    assert f["arr"].value == 12 * 4700 * R


def test_july_voluntary_and_involuntary_churn_apart(story):
    t = totals(period(PeriodKind.MONTH, date(2025, 7, 1)))
    f = headline(t)

    assert (t.customers_start, t.mrr_start_cents, t.churn_cents) == (7, 4700 * R, 800 * R)
    assert (t.churned_customers, t.voluntary_churned, t.involuntary_churned) == (2, 1, 1)
    assert (t.voluntary_churn_cents, t.involuntary_churn_cents) == (500 * R, 300 * R)
    assert f["logo_churn"].value == Decimal(2) / Decimal(7)
    assert f["logo_churn_annualised"].value == 1 - (1 - Decimal(2) / Decimal(7)) ** 12
    assert f["grr"].value == f["nrr"].value == Decimal(3900) / Decimal(4700)
    assert f["quick_ratio"].value == 0


def test_the_first_month_has_no_start_so_every_rate_is_undefined(story):
    f = headline(totals(period(PeriodKind.MONTH, date(2025, 1, 1))))

    assert f["new"].value == (1000 + 900 + 500 + 300) * R
    assert f["arpa"].value == 2700 * R // 4
    for key in ("logo_churn", "gross_mrr_churn", "net_mrr_churn", "grr", "nrr", "quick_ratio"):
        assert f[key].value is None, key
        assert f[key].why, key


def test_a_quarter_counts_joiners_and_churners_in_neither_side_of_logo_churn(story):
    t = totals(period(PeriodKind.QUARTER, date(2025, 5, 1)))
    f = headline(t, months=3)

    # Start of April: Alfa 1500, Beta 800, Gama 1000, Zeta 900, Eta 500, Teta 300 (Delta still on trial).
    assert (t.customers_start, t.mrr_start_cents) == (6, 5000 * R)
    assert (t.new_cents, t.reactivation_cents, t.contraction_cents, t.churn_cents) == (
        1100 * R, 600 * R, 800 * R, 1200 * R,
    )  # fmt: skip
    assert t.mrr_end_cents == 4700 * R == t.mrr_start_cents + t.net_new_cents
    # Beta churned (and came back): churned. Épsilon joined in April and left in May: in neither.
    assert (t.churned_customers, t.joined_and_churned) == (1, 1)
    assert f["logo_churn"].value == Decimal(1) / Decimal(6)
    assert f["logo_churn_annualised"].value == 1 - (Decimal(5) / Decimal(6)) ** 4
    # Each start customer from April to June: Alfa 1500→1000, Beta 800→600, Zeta 900→600, others kept.
    assert f["grr"].value == Decimal(4000) / Decimal(5000)
    assert f["gross_mrr_churn"].value == Decimal(2000) / Decimal(5000)
    assert f["net_mrr_churn"].value == Decimal(2000 - 600) / Decimal(5000)


def test_a_reassignment_mid_month_leaves_the_month_with_the_owner_at_its_start(story):
    june, july = period(PeriodKind.MONTH, date(2025, 6, 1)), period(PeriodKind.MONTH, date(2025, 7, 1))

    lucas_june = totals(june, owner_id=story.lucas.pk)
    beatriz_june = totals(june, owner_id=story.beatriz.pk)
    beatriz_july = totals(july, owner_id=story.beatriz.pk)

    assert lucas_june.contraction_cents == 300 * R  # Zeta's, reassigned on the 15th
    assert beatriz_june.contraction_cents == 0
    assert (beatriz_june.customers_start, beatriz_june.mrr_start_cents) == (1, 1000 * R)  # Gama
    assert (beatriz_july.customers_start, beatriz_july.mrr_start_cents) == (2, 1600 * R)  # Gama and Zeta


def test_slices_by_segment_plan_and_service_model(story):
    june = period(PeriodKind.MONTH, date(2025, 6, 1))

    enterprise = totals(june, segment="enterprise")
    low_touch = totals(june, service_model="low")
    business = totals(june, plan_tier="business")

    assert enterprise == low_touch == business
    assert (enterprise.customers_end, enterprise.mrr_end_cents) == (1, 1000 * R)  # Gama's annual plan ÷ 12


def test_trailing_twelve_months_before_any_history_start_from_nothing(story):
    t = totals(period(PeriodKind.TRAILING, date(2025, 8, 1)))
    f = headline(t, months=12)

    assert t.customers_start == 0
    assert t.mrr_end_cents == 4700 * R - 800 * R
    assert t.joined_and_churned == 4  # Beta (paying again, but it churned), Épsilon, Eta, Teta
    assert f["nrr"].value is None


@pytest.mark.parametrize(
    ("kind", "month"),
    [
        (PeriodKind.MONTH, date(2025, 1, 1)),
        (PeriodKind.MONTH, date(2025, 4, 1)),
        (PeriodKind.MONTH, date(2025, 6, 1)),
        (PeriodKind.MONTH, date(2025, 8, 1)),
        (PeriodKind.QUARTER, date(2025, 4, 1)),
        (PeriodKind.QUARTER, date(2025, 8, 1)),
        (PeriodKind.YEAR, date(2025, 3, 1)),
        (PeriodKind.TRAILING, date(2025, 7, 1)),
    ],
)
def test_the_sql_agrees_with_the_python_reference_customer_by_customer(story, kind, month):
    p = period(kind, month)

    by_sql = sorted(facts_sql(p), key=lambda f: f.customer_id)
    by_python = sorted(LedgerHistory().facts(p), key=lambda f: f.customer_id)

    assert by_sql == by_python
    assert totals_by_slice(by_sql) == totals_by_slice(by_python)


def test_the_customers_that_moved_have_the_same_facts_when_read_alone(story):
    p = period(PeriodKind.QUARTER, date(2025, 6, 1))

    everyone = {f.customer_id: f for f in facts_sql(p)}
    moved = facts_sql(p, moved_only=True)

    assert {f.customer_id for f in moved} == {
        f.customer_id for f in everyone.values() if f.mrr_start_cents != f.mrr_end_cents or f.churned_in_period
        or f.expansion_cents or f.contraction_cents
    }  # fmt: skip
    assert all(everyone[f.customer_id] == f for f in moved)
