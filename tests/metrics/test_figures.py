"""The figures from totals: DOMAIN.md's formulas, hand-computed, and every zero denominator undefined."""

from decimal import Decimal

from metrics.figures import NO_CHURN, SHORT_HISTORY, Totals, annualised, headline, unit_economics


def test_every_rate_with_a_zero_denominator_is_undefined_and_says_why():
    figures = headline(Totals())

    undefined = {key for key, figure in figures.items() if figure.value is None}
    assert undefined == {
        "arpa", "logo_churn", "logo_churn_annualised", "gross_mrr_churn", "net_mrr_churn", "grr", "nrr", "quick_ratio",
    }  # fmt: skip
    assert all(figures[key].why for key in undefined)
    assert figures["mrr"].value == 0
    assert figures["net_new"].value == 0


def test_negative_churn_is_shown_as_such():
    totals = Totals(customers_start=4, mrr_start_cents=1000, expansion_cents=300, contraction_cents=100,
                    mrr_end_cents=1200, customers_end=4)  # fmt: skip

    assert headline(totals)["net_mrr_churn"].value == Decimal(-200) / Decimal(1000)
    assert headline(totals)["gross_mrr_churn"].value == Decimal("0.1")


def test_logo_churn_is_annualised_by_compounding_never_by_twelve():
    monthly = Decimal("0.02")

    assert annualised(monthly, 1) == 1 - Decimal("0.98") ** 12
    assert annualised(monthly, 1) < 12 * monthly
    # A quarter's rate compounds four times a year; twelve months' rate is already yearly.
    assert annualised(Decimal("0.1"), 3) == 1 - Decimal("0.9") ** 4
    assert annualised(Decimal("0.1"), 12) == Decimal("0.1")
    assert annualised(None, 1) is None


def test_quick_ratio_counts_reactivation_with_the_gains():
    totals = Totals(new_cents=100, expansion_cents=50, reactivation_cents=50, churn_cents=80, contraction_cents=20)

    assert headline(totals)["quick_ratio"].value == Decimal(2)


def test_ltv_on_the_six_month_average_logo_churn_with_gross_margin():
    months = [Totals(customers_start=10, churned_customers=n) for n in (1, 0, 2, 1, 0, 2)]

    figures = unit_economics(arpa_cents=50_000, monthly_totals=months, gross_margin=Decimal("0.8"))

    average = Decimal(6) / Decimal(10) / Decimal(6)  # 10 % a month
    assert figures["lifetime"].value == 1 / average == Decimal(10)
    assert figures["ltv"].value == 400_000  # 500 × 0.8 ÷ 0.1


def test_ltv_is_undefined_with_less_than_six_months_or_a_month_without_customers():
    five = [Totals(customers_start=10, churned_customers=1)] * 5
    six_with_an_empty_month = [Totals(), *five]

    assert unit_economics(arpa_cents=100, monthly_totals=five)["ltv"].why == SHORT_HISTORY
    assert unit_economics(arpa_cents=100, monthly_totals=six_with_an_empty_month)["lifetime"].value is None


def test_ltv_is_undefined_without_churn():
    figures = unit_economics(arpa_cents=100, monthly_totals=[Totals(customers_start=3)] * 6)

    assert figures["ltv"].value is None
    assert figures["ltv"].why == NO_CHURN
    assert figures["lifetime"].value is None
