"""Cohorts (safras) of the story in conftest.py, computed by hand (customers paying · their MRR in R$):

| cohort (month 0) | customers     | M0       | M1       | M2       | M3       | M4       | M5       | M6       |
| Jan 2025         | Alfa Zeta Eta+ | 4 · 2700 | 4 · 2700 | 4 · 3200 | 4 · 3200 | 4 · 2700 | 4 · 2400 | 2 · 1600 |
| Feb 2025         | Beta          | 1 · 800  | 1 · 800  | 0        | 0        | 1 · 600  | 1 · 600  | 1 · 600  |
| Mar 2025         | Gama          | 1 · 1000, the same to M5                                               |
| Apr 2025         | Delta Épsilon | 2 · 1100 | 1 · 700  | 1 · 700  | 1 · 700  | 1 · 700  |          |          |
| May–Aug 2025     | nobody: Delta's trial in February made no cohort; Beta's return starts no new one    |

January's fourth is Teta; Gama is Beatriz's. January's M7 (August) is 2 · 1600 too. Alfa's add-on lifts the
January cohort's MRR above month 0's (NRR 118.5 % in March); Beta churns in April and comes back in June (logo
retention 100 → 0 → 100 %).
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from metrics import cohorts, rollups, selectors
from metrics.facts import LedgerHistory
from metrics.models import CohortCell
from metrics.selectors import MetricsFilters
from portfolio import services
from tests.metrics.conftest import R, at

URL = reverse("metrics:panel_cohorts")
DRILL = reverse("metrics:drilldown")
AUG = date(2025, 8, 1)


@pytest.fixture
def built(story, today):
    rollups.rebuild_all()
    return story


def rows_of(grid) -> dict[date, cohorts.CohortRow]:
    return {row.cohort: row for row in grid.rows}


def logo(row) -> list:
    return [cell.logo_retention for cell in row.cells]


def test_the_cohorts_of_the_story_as_computed_by_hand(built):
    grid = selectors.cohort_table(built.org.leader_a, AUG, MetricsFilters())

    rows = rows_of(grid)
    assert list(rows) == [date(2025, m, 1) for m in range(1, 9)]  # from the first cohort there is to August
    assert grid.ages == list(range(8))
    january = rows[date(2025, 1, 1)]
    assert (january.customers, january.mrr_cents) == (4, 2700 * R)
    assert logo(january) == [1, 1, 1, 1, 1, 1, Decimal("0.5"), Decimal("0.5")]
    in_reais = (2700, 2700, 3200, 3200, 2700, 2400, 1600, 1600)
    assert [cell.mrr_cents for cell in january.cells] == [c * R for c in in_reais]
    april = rows[date(2025, 4, 1)]
    assert (april.customers, logo(april)) == (2, [1, Decimal("0.5"), Decimal("0.5"), Decimal("0.5"), Decimal("0.5")])
    assert april.cells[1].mrr_retention == Decimal(700) / Decimal(1100)


def test_expansion_lifts_net_mrr_retention_above_100_percent(built):
    january = rows_of(selectors.cohort_table(built.org.leader_a, AUG, MetricsFilters()))[date(2025, 1, 1)]

    assert january.cells[2].mrr_retention == Decimal(3200) / Decimal(2700)  # 118.5 %: Alfa's add-on in March
    assert january.cells[2].logo_retention == 1


def test_a_customer_that_churns_and_comes_back_counts_again_in_its_own_cohort(built):
    february = rows_of(selectors.cohort_table(built.org.leader_a, AUG, MetricsFilters()))[date(2025, 2, 1)]

    assert logo(february) == [1, 1, 0, 0, 1, 1, 1]
    assert february.cells[4].mrr_retention == Decimal("0.75")  # back at R$ 600 of the first R$ 800


def test_an_empty_cohort_has_no_rates_never_zero(built):
    may = rows_of(selectors.cohort_table(built.org.leader_a, AUG, MetricsFilters()))[date(2025, 5, 1)]

    assert may.empty
    assert [cell.logo_retention for cell in may.cells] == [None, None, None, None]
    assert [cell.mrr_retention for cell in may.cells] == [None, None, None, None]


def test_a_cohort_keeps_the_owner_of_its_month_0(built):
    # Zeta moved to Beatriz in June: it stays in Lucas's January cohort.
    beatriz = selectors.cohort_table(built.org.leader_a, AUG, MetricsFilters(owner=built.beatriz.pk))
    lucas = selectors.cohort_table(built.org.leader_a, AUG, MetricsFilters(owner=built.lucas.pk))

    expected = [(3, 1), (4, 0), (5, 0), (6, 0), (7, 0), (8, 0)]
    assert [(row.cohort, row.customers) for row in beatriz.rows] == [(date(2025, m, 1), n) for m, n in expected]
    assert rows_of(lucas)[date(2025, 1, 1)].customers == 4


def test_a_csm_sees_their_portfolios_cohorts_and_another_team_none(built, client_for):
    # Beatriz asks for Lucas's: the page keeps her to her own portfolio (Gama, since March).
    own = client_for(built.beatriz).get(URL, {"month": "2025-08", "owner": built.lucas.pk}).context["cohorts"][0]
    other_team = selectors.cohort_table(built.org.leader_b, AUG, MetricsFilters())

    assert {row.cohort: row.customers for row in own["rows"] if row.customers} == {date(2025, 3, 1): 1}
    assert other_team.rows == []


def test_a_segment_filter_narrows_each_cohort_to_its_month_0_segment(built):
    grid = selectors.cohort_table(built.org.leader_a, AUG, MetricsFilters(segment="smb"))

    assert {row.cohort: row.customers for row in grid.rows if row.customers} == {date(2025, 4, 1): 1}  # Épsilon
    assert logo(grid.rows[0]) == [1, 0, 0, 0, 0]


def test_a_cohort_table_ending_earlier_shows_only_the_months_up_to_it(built):
    grid = selectors.cohort_table(built.org.leader_a, date(2025, 3, 1), MetricsFilters())

    assert [(row.cohort, len(row.cells)) for row in grid.rows] == [
        (date(2025, 1, 1), 3), (date(2025, 2, 1), 2), (date(2025, 3, 1), 1),
    ]  # fmt: skip


def test_the_cells_in_sql_equal_the_ledger_in_python(built):
    expected = cohorts.cells_from_history(LedgerHistory(), last=AUG)

    assert cohorts.stored_cells() == expected
    assert expected[(date(2025, 1, 1), 2, built.lucas.pk, "mid", "pro", "high")] == (4, 3200 * R)
    assert rollups.check(current=AUG).ok


def test_without_postgresql_the_cells_come_from_the_ledger_in_python_and_are_the_same(built, monkeypatch):
    from_sql = cohorts.stored_cells()

    monkeypatch.setattr(cohorts.connection, "vendor", "sqlite")
    cohorts.build(last=AUG)

    assert cohorts.stored_cells() == from_sql


def test_the_check_finds_a_cell_that_differs_from_the_ledger(built, capsys):
    CohortCell.objects.filter(cohort=date(2025, 1, 1), age=2).update(customers=3)

    report = rollups.check(current=AUG)

    assert any(line.startswith("cohort 2025-01 +2") for line in report.differences)
    with pytest.raises(Exception, match="differ"):
        call_command("metrics_rebuild", "--check")


def test_a_ledger_change_rebuilds_the_cells_from_its_month_on(built, django_capture_on_commit_callbacks):
    # given: Gama's plan doubles from July
    before = cohorts.stored_cells()
    gama = built.gama.subscriptions.get()
    with at(date(2025, 7, 1)), django_capture_on_commit_callbacks(execute=True):
        services.subscription_change(
            subscription=gama, actor=None, effective_date=date(2025, 7, 1), amount_cents=24_000 * R
        )

    # when the refresh runs (the task the change queued)
    from metrics.services import rollups_refresh

    with at(date(2025, 8, 15)):
        rollups_refresh()

    # then the cells from July on moved, the others did not, and all equal the ledger
    after = cohorts.stored_cells()
    march = (date(2025, 3, 1), 4, built.beatriz.pk, "enterprise", "business", "low")
    assert (before[march], after[march]) == ((1, 1000 * R), (1, 2000 * R))
    assert {k: v for k, v in after.items() if k[0] == date(2025, 1, 1)} == {
        k: v for k, v in before.items() if k[0] == date(2025, 1, 1)
    }
    assert cohorts.check(last=AUG, history=LedgerHistory()) == []


# --- The page --------------------------------------------------------------------------------------------


def test_the_page_shows_both_cohort_tables_shaded_by_css_classes(built, client_for):
    response = client_for(built.org.leader_a).get(URL, {"period": "month", "month": "2025-08"})

    html = response.content.decode()
    assert 'id="cohort-logo_retention"' in html
    assert 'id="cohort-mrr_retention"' in html
    tables = {table["key"]: table for table in response.context["cohorts"]}
    january = tables["mrr_retention"]["rows"][0]
    assert january.cells[2].css == "heat-10 heat-over"  # 118.5 %
    assert tables["logo_retention"]["rows"][0].cells[6].css == "heat-5"  # 50 %
    assert "118,5\u00a0%" in html
    assert " style=" not in html


def test_each_cohort_cell_opens_the_customers_behind_it(built, client_for):
    # given the leader's page
    client = client_for(built.org.leader_a)
    tables = {t["key"]: t for t in client.get(URL, {"month": "2025-08"}).context["cohorts"]}
    january = tables["logo_retention"]["rows"][0]

    # when they follow January's M6 (July) cell and February's M4 (June)
    july = client.get(january.cells[6].link).context
    june = client.get(tables["logo_retention"]["rows"][1].cells[4].link).context

    # then the customers still paying are those the cell counted, adding up to its MRR
    assert sorted(r.customer.name for r in july["rows"]) == ["Alfa", "Zeta"]
    assert july["total_cents"] == january.cells[6].mrr_cents == 1600 * R
    assert [r.customer.name for r in june["rows"]] == ["Beta"]
    assert july["cohort"] == date(2025, 1, 1)
    assert "cohort=2025-01" in january.cells[6].link


def test_a_cohort_drill_down_filters_by_the_owner_of_month_0(built, client_for):
    # Zeta was Lucas's in January and Beatriz's in July: it is behind Lucas's January cohort cell.
    client = client_for(built.org.leader_a)
    params = {"period": "month", "month": "2025-07", "cohort": "2025-01", "figure": "mrr"}

    lucas = client.get(DRILL, {**params, "owner": built.lucas.pk}).context
    beatriz = client.get(DRILL, {**params, "owner": built.beatriz.pk}).context

    assert sorted(r.customer.name for r in lucas["rows"]) == ["Alfa", "Zeta"]
    assert beatriz["rows"] == []


def test_a_csm_cannot_open_another_csms_cohort(built, client_for):
    context = (
        client_for(built.beatriz)
        .get(DRILL, {"period": "month", "month": "2025-07", "cohort": "2025-01", "figure": "mrr"})
        .context
    )

    assert context["rows"] == []


@pytest.mark.parametrize("cohort", ["2025-01", "2025-02", "2025-04"])
def test_without_postgresql_a_cohort_drill_down_gives_the_same_rows(built, client_for, monkeypatch, cohort):
    client = client_for(built.org.leader_a)
    params = {"period": "month", "month": "2025-06", "cohort": cohort, "figure": "mrr", "segment": "mid"}

    def rows(context):
        return context["total_cents"], [(r.customer.pk, r.amount_cents) for r in context["rows"]]

    from_sql = rows(client.get(DRILL, params).context)
    monkeypatch.setattr(selectors.connection, "vendor", "sqlite")
    in_python = rows(client.get(DRILL, params).context)

    assert in_python == from_sql


def test_a_cohort_that_does_not_parse_is_no_cohort(built, client_for):
    context = (
        client_for(built.org.leader_a)
        .get(DRILL, {"period": "month", "month": "2025-07", "cohort": "2025-13", "figure": "mrr"})
        .context
    )

    assert context["cohort"] is None
    assert context["page"].count == 5  # every customer paying at the end of July


def test_the_cohort_table_is_one_query(built, django_assert_num_queries):
    leader = built.org.leader_a
    with django_assert_num_queries(1):
        selectors.cohort_table(leader, AUG, MetricsFilters())
