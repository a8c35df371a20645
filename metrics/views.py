"""The metrics page and the customers behind each of its numbers."""

import csv
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.vary import vary_on_headers

from metrics import charts, selectors, services
from metrics.charts import cohort_views
from metrics.figures import HOW, LABELS
from metrics.forms import MetricsForm, read_cohort, read_metrics_request
from metrics.links import query_of
from metrics.periods import Period, PeriodKind
from metrics.selectors import MetricsFilters

HEADLINE = [
    "mrr", "arr", "net_new", "paying", "arpa", "logo_churn", "logo_churn_annualised", "gross_mrr_churn",
    "net_mrr_churn", "grr", "nrr", "nrr_t12m", "quick_ratio", "ltv", "lifetime",
]  # fmt: skip
MOVEMENTS = ["new", "expansion", "reactivation", "contraction", "churn"]
CSM_LABELS = {"mrr": _l("MRR"), "paying": _l("Customers"), "logo_churn": _l("Logo churn"), "grr": _l("GRR"),
              "nrr": _l("NRR"), "expansion": _l("Expansion")}  # fmt: skip
CHURN_KINDS = ["churned", "voluntary_churned", "involuntary_churned", "joined_and_churned"]


def _resolve(request: HttpRequest) -> tuple[MetricsForm, Period, MetricsFilters]:
    return read_metrics_request(request.user, request.GET)


@login_required
@vary_on_headers("HX-Request")
def overview(request: HttpRequest) -> HttpResponse:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No worker refreshes the rollups after a change in the embedded run (see metrics.subscribers).
        services.rollups_refresh()
    form, period, filters = _resolve(request)
    data = selectors.metrics_overview(request.user, period, filters)
    comparison = selectors.csm_comparison(request.user, period, filters)
    sort = request.GET.get("sort", "")
    if sort in selectors.COMPARED:
        comparison.rows = selectors.sorted_by(comparison.rows, sort)
    for row in comparison.rows:
        if row.owner_id is not None:
            row.query = query_of(period.kind, period.end, filters, owner=row.owner_id)
    charted = charts.chart_months(data.chart_months, filters)
    cohort_grid = selectors.cohort_table(request.user, period.end, filters)
    context = {
        "form": form,
        "period": period,
        "filters": filters,
        "overview": data,
        "headline": [
            (key, LABELS[key], HOW.get(key, ""), data.figures[key], data.previous_figures.get(key)) for key in HEADLINE
        ],
        "churn_kinds": [(key, LABELS[key], data.figures[key]) for key in CHURN_KINDS],
        "how_churned": HOW["churned"],
        "movements": MOVEMENTS,
        "movement_labels": [LABELS[key] for key in MOVEMENTS],
        "month_rows": [
            {
                "month": month,
                "query": query_of(PeriodKind.MONTH, month, filters),
                "cells": [(key, getattr(totals, f"{key}_cents")) for key in MOVEMENTS],
                "net_new": totals.net_new_cents,
                "mrr": totals.mrr_end_cents,
                "churned": totals.churned_customers,
            }
            for month, totals in data.months
        ],
        "chart_months": charted,
        "chart_data": charts.chart_payload(charted, language=get_language() or "pt-br"),
        "cohorts": cohort_views(cohort_grid, filters),
        "cohort_ages": cohort_grid.ages,
        "comparison": comparison,
        "csm_columns": [(key, CSM_LABELS[key]) for key in selectors.COMPARED],
        "csm_sort": sort,
        "compares_csms": selectors.sees_every_csm(request.user),
        "query": query_of(period.kind, period.end, filters),
        "drillable": set(selectors.DRILLS),
    }
    template = "metrics/overview.html#results" if request.htmx else "metrics/overview.html"
    return render(request, template, context)


@login_required
def drilldown(request: HttpRequest) -> HttpResponse:
    """The customers behind one figure of the page: their amounts add up to it."""
    figure = request.GET.get("figure", "")
    if figure not in selectors.DRILLS:
        raise Http404
    _form, period, filters = _resolve(request)
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 1
    cohort = read_cohort(request.GET)
    page = selectors.drilldown(request.user, period, filters, figure, page=number, cohort=cohort)
    back = query_of(period.kind, period.end, filters)
    here = query_of(period.kind, period.end, filters, cohort=f"{cohort:%Y-%m}" if cohort else None, figure=figure)
    context = {
        "cohort": cohort,
        "figure": figure,
        "label": LABELS.get(figure, figure),
        "how": HOW.get(figure, ""),
        "period": period,
        "filters": filters,
        "page": page,
        "rows": page.rows,
        "total_cents": page.total_cents,
        "back": back,
        "here": here,
    }
    return render(request, "metrics/drilldown.html", context)


# --- CSV -------------------------------------------------------------------------------------------------

EXPORTS = ("headline", "movements", "csms", "customers")


def _reais(cents: int | None) -> str:
    return "" if cents is None else f"{Decimal(cents) / 100:.2f}"


def _value(fig) -> str:
    if fig is None or fig.value is None:
        return ""
    if fig.unit == "money":
        return _reais(fig.value)
    if isinstance(fig.value, Decimal):
        return f"{fig.value:.6f}"
    return str(fig.value)


def _text_cell(value: str) -> str:
    # A name such as "=HYPERLINK(…)" must stay text in a spreadsheet.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _export_rows(request: HttpRequest, table: str, period: Period, filters: MetricsFilters) -> list[list]:
    user = request.user
    if table == "headline":
        data = selectors.metrics_overview(user, period, filters)
        rows = [[_("Figure"), _("Value"), _("Previous period"), _("Why undefined")]]
        for key in HEADLINE:
            fig = data.figures[key]
            rows.append([str(LABELS[key]), _value(fig), _value(data.previous_figures.get(key)), str(fig.why)])
        return rows
    if table == "movements":
        data = selectors.metrics_overview(user, period, filters)
        rows = [[_("Month"), *[str(LABELS[k]) for k in MOVEMENTS], _("Net new MRR"), _("MRR at the end"),
                 _("Customers churned")]]  # fmt: skip
        for month, t in data.months:
            rows.append([f"{month:%Y-%m}", *[_reais(getattr(t, f"{k}_cents")) for k in MOVEMENTS],
                         _reais(t.net_new_cents), _reais(t.mrr_end_cents), t.churned_customers])  # fmt: skip
        return rows
    if table == "csms":
        comparison = selectors.csm_comparison(user, period, filters)
        rows = [[_("CSM"), *[str(LABELS[k]) for k in selectors.COMPARED]]]
        extra = [r for r in (comparison.total, comparison.median) if r is not None]
        for row in [*comparison.rows, *extra]:
            name = _("Team median") if row.is_median else _("Team total") if row.is_total else row.name or _("No CSM")
            rows.append([_text_cell(str(name)), *[_value(fig) for _key, fig in row.cells]])
        return rows
    figure = request.GET.get("figure", "")
    if figure not in selectors.DRILLS:
        raise Http404
    page = selectors.drilldown(user, period, filters, figure, per_page=EXPORT_ALL, cohort=read_cohort(request.GET))
    rows = [[_("Customer"), _("In this figure"), _("MRR at the start"), _("MRR at the end"), _("CSM now")]]
    for row in page.rows:
        owner = row.customer.owner.full_name if row.customer.owner else ""
        rows.append([_text_cell(row.customer.name), _reais(row.amount_cents), _reais(row.mrr_start_cents),
                     _reais(row.mrr_end_cents), _text_cell(owner)])  # fmt: skip
    return rows


EXPORT_ALL = 10_000_000


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """One of the page's tables as CSV, with the page's period and filters (and ``figure`` for customers)."""
    table = request.GET.get("table", "")
    if table not in EXPORTS:
        raise Http404
    _form, period, filters = _resolve(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    csv.writer(response).writerows(_export_rows(request, table, period, filters))
    response["Content-Disposition"] = (
        f'attachment; filename="leme-{table}-{period.kind}-{period.start:%Y-%m}-{period.end:%Y-%m}.csv"'
    )
    return response
