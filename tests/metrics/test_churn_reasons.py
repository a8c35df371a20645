"""Why customers churned, on the story of conftest.py. In 2025: Beta (April, R$ 800) and Épsilon (May, R$ 400)
ended without a churn request; Eta (July, R$ 500) asked to cancel for a missing integration (voluntary); Teta
(July, R$ 300) stopped paying (involuntary). R$ 2.000 in all: 60 % without a request, then 85 %, then 100 %."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from metrics import rollups, selectors
from metrics.facts import LedgerHistory
from metrics.periods import Period
from metrics.selectors import MetricsFilters
from portfolio.models import ChurnReason
from tests.metrics.conftest import R

DRILL = reverse("metrics:drilldown")
YEAR = Period.of("year", date(2025, 8, 1), current=date(2025, 8, 1))


@pytest.fixture
def built(story, today):
    rollups.rebuild_all()
    return story


def flat(reasons) -> list[tuple]:
    return [
        (row.reason_id, row.kind, row.customers, row.churn_cents, row.cumulative)
        for category in reasons.categories
        for row in category.reasons
    ]


def test_the_years_churn_by_reason_largest_first_with_the_running_share(built):
    reasons = selectors.churn_reasons(built.org.leader_a, YEAR, MetricsFilters())

    integration = ChurnReason.objects.get(code="missing-integration").pk
    unpaid = ChurnReason.objects.get(code="invoice-unpaid").pk
    assert flat(reasons) == [
        (None, "", 2, 1200 * R, Decimal("0.6")),
        (integration, "voluntary", 1, 500 * R, Decimal("0.85")),
        (unpaid, "involuntary", 1, 300 * R, Decimal(1)),
    ]
    assert (reasons.customers, reasons.churn_cents) == (4, 2000 * R)
    assert (reasons.voluntary_cents, reasons.involuntary_cents) == (500 * R, 300 * R)
    assert reasons.categories[0].share == Decimal("0.6")


def test_each_reason_opens_the_customers_whose_churn_it_ended(built, client_for):
    client = client_for(built.org.leader_a)
    params = {"period": "year", "month": "2025-08", "figure": "churn"}
    integration = ChurnReason.objects.get(code="missing-integration").pk

    none = client.get(DRILL, {**params, "reason": "none"}).context
    eta = client.get(DRILL, {**params, "reason": integration}).context

    assert sorted(r.customer.name for r in none["rows"]) == ["Beta", "Épsilon"]
    assert none["total_cents"] == 1200 * R
    assert [r.customer.name for r in eta["rows"]] == ["Eta"]


@pytest.mark.parametrize("reason", ["none", "missing-integration"])
def test_without_postgresql_a_reason_drill_down_gives_the_same_rows(built, client_for, monkeypatch, reason):
    client = client_for(built.org.leader_a)
    value = reason if reason == "none" else ChurnReason.objects.get(code=reason).pk
    params = {"period": "year", "month": "2025-08", "figure": "churn", "reason": value}

    def rows(context):
        return context["total_cents"], [(r.customer.pk, r.amount_cents) for r in context["rows"]]

    from_sql = rows(client.get(DRILL, params).context)
    monkeypatch.setattr(selectors.connection, "vendor", "sqlite")

    assert rows(client.get(DRILL, params).context) == from_sql


def test_the_reason_rollups_equal_the_ledger_in_sql_and_in_python(built, monkeypatch):
    from_sql = {p: rollups.stored_reasons(p) for p in rollups.periods_to_build(current=date(2025, 8, 1))}

    assert rollups.check(current=date(2025, 8, 1)).ok
    monkeypatch.setattr(rollups.connection, "vendor", "sqlite")
    rollups.build_period_from_history(YEAR, LedgerHistory())
    assert rollups.stored_reasons(YEAR) == from_sql[YEAR]


def test_a_csm_sees_only_their_portfolios_reasons(built):
    reasons = selectors.churn_reasons(built.beatriz, YEAR, MetricsFilters())

    assert reasons.categories == []  # every churn of 2025 was Lucas's at the start of the year


def test_the_page_shows_the_reasons_table(built, client_for):
    html = client_for(built.org.leader_a).get(reverse("metrics:panel_reasons"), {"period": "year"}).content.decode()

    assert 'id="reasons"' in html
    assert "figure=churn&amp;reason=none" in html
    assert "60,0\u00a0%" in html
