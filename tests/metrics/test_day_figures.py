"""My day's figures: a CSM's MRR change this month, a leader's net new MRR and logo churn, each the metrics page's
own figure for the month (the story of tests/metrics/conftest.py) and a link to it."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import panels
from metrics import day, rollups, selectors
from metrics.periods import Period, PeriodKind
from tests.metrics.conftest import R

JULY = date(2025, 7, 15)  # Eta (R$ 500, voluntary) and Teta (R$ 300, involuntary) churn; both Lucas's


@pytest.fixture
def built(story, today):
    rollups.rebuild_all()
    return story


def page_figures(user, month: date, **filters) -> dict:
    period = Period(PeriodKind.MONTH, month, month)
    overview = selectors.metrics_overview(user, period, selectors.MetricsFilters(**filters))
    return {key: fig.value for key, fig in overview.figures.items()}


def test_a_csm_sees_their_portfolios_mrr_change_this_month(built):
    lucas = built.lucas

    figures = day.day_figures(lucas, JULY)

    # Alfa 1000, Beta 600 and Delta 700 stay; Eta and Teta leave; Zeta was Beatriz's at the start of July
    assert figures.leads is False
    assert figures.net_new.value == -800 * R
    assert figures.mrr.value == 2300 * R
    page = page_figures(lucas, date(2025, 7, 1), owner=lucas.pk)
    assert (figures.net_new.value, figures.mrr.value) == (page["net_new"], page["mrr"])
    assert figures.query == f"period=month&month=2025-07&owner={lucas.pk}"


def test_a_leader_sees_the_teams_net_new_mrr_and_logo_churn(built):
    leader = built.org.leader_a

    figures = day.day_figures(leader, JULY)

    # seven customers paid at the start of July (Alfa, Beta, Gama, Delta, Zeta, Eta, Teta); two churned
    assert figures.leads is True
    assert figures.net_new.value == -800 * R
    assert figures.mrr.value == 3900 * R
    assert figures.churned.value == 2
    assert figures.logo_churn.value == Decimal(2) / Decimal(7)
    page = page_figures(leader, date(2025, 7, 1))
    assert (figures.net_new.value, figures.logo_churn.value) == (page["net_new"], page["logo_churn"])
    assert figures.query == "period=month&month=2025-07"


def test_an_ism_gets_no_portfolio_figures(built):
    assert day.day_figures(built.org.ism_a, JULY) is None


def test_my_day_shows_the_figures_as_tiles_linking_to_the_metrics_page(built, client_for):
    leader_html = client_for(built.org.leader_a).get(reverse("home")).content.decode()
    csm_html = client_for(built.lucas).get(reverse("home")).content.decode()

    # August: nobody churned yet, nothing moved (the leader's tile reads 0 %, with its count)
    overview = reverse("metrics:overview")
    assert 'id="metrics-month-net-new"' in leader_html
    assert f'href="{overview}?period=month&amp;month=2025-08"' in leader_html
    assert 'id="metrics-month-logo-churn"' in leader_html
    assert "Churn de clientes neste mês" in leader_html
    assert "0 cliente saiu" in leader_html
    assert 'id="metrics-month-net-new"' in csm_html
    assert "Minha variação de MRR neste mês" in csm_html
    assert f'href="{overview}?period=month&amp;month=2025-08&amp;owner={built.lucas.pk}"' in csm_html
    assert 'id="metrics-month-logo-churn"' not in csm_html
    # the tiles sit in the summary row at the top, before the task list
    assert leader_html.index('id="metrics-month-net-new"') < leader_html.index('id="tasks-h"')


def test_the_figures_cost_my_day_one_query(built, client_for):
    client = client_for(built.org.leader_a)
    client.get(reverse("home"))  # the session and the caches are warm

    registered = panels._day_panels.pop("metrics-month")
    try:
        with CaptureQueriesContext(connection) as without:
            assert client.get(reverse("home")).status_code == 200
    finally:
        panels.register_day(registered)
    with CaptureQueriesContext(connection) as with_figures:
        assert client.get(reverse("home")).status_code == 200

    assert len(with_figures.captured_queries) == len(without.captured_queries) + 1
