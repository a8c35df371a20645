"""The metrics page and the customers behind each of its numbers."""

from datetime import date

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from metrics import selectors, services
from metrics.figures import HOW, LABELS
from metrics.forms import MetricsForm
from metrics.periods import Period, PeriodKind
from metrics.selectors import MetricsFilters

HEADLINE = [
    "mrr", "arr", "net_new", "paying", "arpa", "logo_churn", "logo_churn_annualised", "gross_mrr_churn",
    "net_mrr_churn", "grr", "nrr", "nrr_t12m", "quick_ratio", "ltv", "lifetime",
]  # fmt: skip
MOVEMENTS = ["new", "expansion", "reactivation", "contraction", "churn"]
CHURN_KINDS = ["churned", "voluntary_churned", "involuntary_churned", "joined_and_churned"]


def query_of(kind: str, month: date, filters: MetricsFilters, **override) -> str:
    """The page's state as a query string, so every link keeps the period and the filters."""
    values = {
        "period": kind,
        "month": f"{month:%Y-%m}",
        "owner": filters.owner,
        "segment": filters.segment,
        "service_model": filters.service_model,
        "plan_tier": filters.plan_tier,
        **override,
    }
    query = QueryDict(mutable=True)
    for key, value in values.items():
        if value not in (None, ""):
            query[key] = str(value)
    return query.urlencode()


def _resolve(request: HttpRequest) -> tuple[MetricsForm, Period, MetricsFilters]:
    owners = selectors.metric_owners_visible_to(request.user) if selectors.sees_every_csm(request.user) else []
    form = MetricsForm(request.GET or None, owners=owners)
    period, filters = form.resolve(current=selectors.current_month())
    if not selectors.sees_every_csm(request.user):
        filters = MetricsFilters(
            segment=filters.segment, service_model=filters.service_model, plan_tier=filters.plan_tier
        )
    return form, period, filters


@login_required
@vary_on_headers("HX-Request")
def overview(request: HttpRequest) -> HttpResponse:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No worker refreshes the rollups after a change in the embedded run (see metrics.subscribers).
        services.rollups_refresh()
    form, period, filters = _resolve(request)
    data = selectors.metrics_overview(request.user, period, filters)
    comparison = selectors.csm_comparison(request.user, period, filters)
    for row in comparison.rows:
        if row.owner_id is not None:
            row.query = query_of(period.kind, period.end, filters, owner=row.owner_id)
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
        "comparison": comparison,
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
    page = selectors.drilldown(request.user, period, filters, figure, page=number)
    back = query_of(period.kind, period.end, filters)
    context = {
        "figure": figure,
        "label": LABELS.get(figure, figure),
        "how": HOW.get(figure, ""),
        "period": period,
        "filters": filters,
        "page": page,
        "rows": page.rows,
        "total_cents": page.total_cents,
        "back": back,
        "here": f"{back}&figure={figure}",
    }
    return render(request, "metrics/drilldown.html", context)
