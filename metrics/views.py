"""The metrics page and the customers behind each of its numbers."""

import csv
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_enter_spend, can_read_unit_economics, can_set_gross_margin
from accounts.forms import apply_service_errors
from metrics import charts, operations, selectors, services, views_operations
from metrics.charts import cohort_views
from metrics.figures import HOW, LABELS, UNIT_FIGURES, healthy
from metrics.forms import (
    GrossMarginForm,
    MetricsForm,
    SpendForm,
    SpendImportForm,
    read_cohort,
    read_metrics_request,
    read_reason,
)
from metrics.links import query_of, state_of
from metrics.periods import Period, PeriodKind
from metrics.selectors import MetricsFilters
from portfolio.import_flow import import_step

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
    """The headline figures, the charts and the months; the panels below them come each from its own address
    (``PANELS``), loaded by htmx when they come into view, with a plain link to each without JavaScript."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No worker refreshes the rollups after a change in the embedded run (see metrics.subscribers).
        services.rollups_refresh()
    form, period, filters = _resolve(request)
    context = _overview_context(request, form, period, filters)
    template = "metrics/overview.html#results" if request.htmx else "metrics/overview.html"
    # A custom range that is not valid: the month instead, with the error above the figures.
    return render(request, template, context, status=422 if form.errors.get("start") else 200)


def _page_context(request: HttpRequest, form: MetricsForm, period: Period, filters: MetricsFilters) -> dict:
    """What the page and every panel share: the period, the filters and the links' query."""
    return {
        "form": form,
        "period": period,
        "filters": filters,
        "compares_csms": selectors.sees_every_csm(request.user),
        "query": query_of(period.kind, period.end, filters, start=period.start),
        "drillable": set(selectors.DRILLS),
        "drill_url": reverse("metrics:drilldown"),  # reversed once, for the page's few hundred links
    }


def _overview_context(request: HttpRequest, form: MetricsForm, period: Period, filters: MetricsFilters) -> dict:
    data = selectors.metrics_overview(request.user, period, filters)
    charted = charts.chart_months(data.chart_months, filters)
    context = _page_context(request, form, period, filters)
    panel_query = context["query"]
    sort = request.GET.get("sort", "")
    panels = {}
    for name, panel in PANELS.items():
        if panel.allowed(request.user):
            extra = f"&sort={sort}" if name == "csms" and _sorts_by(sort) else ""
            url = f"{reverse(f'metrics:panel_{name}')}?{panel_query}{extra}"
            panels[name] = {"url": url, "anchor": panel.anchor, "title": panel.title}
    context |= {
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
        "panels": panels,
    }
    return context


def _sorts_by(sort: str) -> bool:
    return sort in selectors.COMPARED or sort in operations.COMPARISON_COLUMNS


# --- The panels below the fold ------------------------------------------------------------------------------


def _reasons_panel(request: HttpRequest, period: Period, filters: MetricsFilters) -> dict:
    return {"reasons": selectors.churn_reasons(request.user, period, filters)}


def _cohorts_panel(request: HttpRequest, period: Period, filters: MetricsFilters) -> dict:
    grid = selectors.cohort_table(request.user, period.end, filters)
    return {"cohorts": cohort_views(grid, filters), "cohort_ages": grid.ages}


def _csms_panel(request: HttpRequest, period: Period, filters: MetricsFilters) -> dict:
    comparison = selectors.csm_comparison(request.user, period, filters)
    operations.extend_comparison(comparison, operations.comparison_operations(request.user, period, filters))
    sort = request.GET.get("sort", "")
    if _sorts_by(sort):
        comparison.rows = selectors.sorted_by(comparison.rows, sort)
    for row in comparison.rows:
        if row.owner_id is not None:
            row.query = query_of(period.kind, period.end, filters, start=period.start, owner=row.owner_id)
    return {
        "comparison": comparison,
        "csm_columns": [
            *[(key, CSM_LABELS[key]) for key in selectors.COMPARED],
            *operations.COMPARISON_LABELS.items(),
        ],
        "nps_months": views_operations.nps_months(period),
        "ops_drills": operations.COLUMN_DRILLS,
        "csm_sort": sort,
    }


def _operations_panel(request: HttpRequest, period: Period, filters: MetricsFilters) -> dict:
    return views_operations.section_context(operations.cs_operations(request.user, period, filters))


def _everyone(user) -> bool:
    return True


@dataclass(frozen=True)
class Panel:
    title: str
    anchor: str  # the section's id: the placeholder's, then the panel's
    build: Callable[..., dict]
    allowed: Callable[..., bool] = _everyone  # whether the page shows it (the panel's address refuses the others)


PANELS = {
    "reasons": Panel(_l("Why customers churned"), "churn-reasons", _reasons_panel),
    "unit_economics": Panel(
        _l("Unit economics"),
        "unit-economics",
        lambda request, period, filters: _unit_context(request, period, filters),
        can_read_unit_economics,
    ),
    "cohorts": Panel(_l("Cohorts"), "cohorts", _cohorts_panel),
    "csms": Panel(_l("Per CSM"), "csm-comparison", _csms_panel),
    "save": Panel(
        _l("Churn requests and the UTI"),
        "save-rate",
        lambda request, period, filters: _save_context(request, period, filters),
    ),
    "operations": Panel(_l("CS operations"), "cs-operations", _operations_panel),
}


def _panel(request: HttpRequest, name: str, resolved=None, **forms) -> HttpResponse:
    """One panel: alone for htmx (the placeholder's swap), or as a page of its own (the placeholder's link)."""
    panel = PANELS[name]
    if not panel.allowed(request.user):
        raise PermissionDenied
    if settings.CELERY_TASK_ALWAYS_EAGER:
        services.rollups_refresh()  # as on the page
    form, period, filters = resolved or _resolve(request)
    context = _page_context(request, form, period, filters)
    if forms:
        context |= _unit_context(request, period, filters, **forms)
    else:
        context |= panel.build(request, period, filters)
    status = 422 if forms else 200
    if request.htmx:
        return render(request, f"metrics/overview.html#{name}", context, status=status)
    context |= {"panel_title": panel.title, "panel_template": f"metrics/overview.html#{name}"}
    return render(request, "metrics/panel.html", context, status=status)


@login_required
@vary_on_headers("HX-Request")
def panel_reasons(request: HttpRequest) -> HttpResponse:
    """Churned MRR and customers by reason (the Pareto)."""
    return _panel(request, "reasons")


@login_required
@vary_on_headers("HX-Request")
def panel_unit_economics(request: HttpRequest) -> HttpResponse:
    """CAC, LTV:CAC and CAC payback with the spend and margin forms; refused to those who do not read them."""
    return _panel(request, "unit_economics")


@login_required
@vary_on_headers("HX-Request")
def panel_cohorts(request: HttpRequest) -> HttpResponse:
    """The cohort tables (logo and net MRR retention)."""
    return _panel(request, "cohorts")


@login_required
@vary_on_headers("HX-Request")
def panel_csms(request: HttpRequest) -> HttpResponse:
    """The per-CSM comparison (a CSM: their own row against the team's median), sortable."""
    return _panel(request, "csms")


@login_required
@vary_on_headers("HX-Request")
def panel_save(request: HttpRequest) -> HttpResponse:
    """Churn requests opened, saved and lost, and the UTI's outcome."""
    return _panel(request, "save")


@login_required
@vary_on_headers("HX-Request")
def panel_operations(request: HttpRequest) -> HttpResponse:
    """Onboarding, handoffs, success-review coverage, detractor loops and tasks overdue, per person."""
    return _panel(request, "operations")


def _save_context(request: HttpRequest, period: Period, filters: MetricsFilters) -> dict:
    """The churn requests and UTI card: each number with its drill-down figure and the texts beside them."""
    save = selectors.save_figures(request.user, period, filters)
    return {
        "save": save,
        "save_requests": [
            ("requests_opened", LABELS["requests_opened"], save.opened),
            ("requests_saved", LABELS["requests_saved"], save.saved),
            ("requests_lost", LABELS["requests_lost"], save.lost),
            ("requests_open", LABELS["requests_open"], save.still_open),
        ],
        "save_uti": [
            ("uti_ended", LABELS["uti_ended"], save.uti_ended),
            ("uti_recovered", LABELS["uti_recovered"], save.uti_recovered),
            ("uti_churned", LABELS["uti_churned"], save.uti_churned),
            ("uti_checked", LABELS["uti_checked"], save.uti_checked),
            ("uti_paying_90", LABELS["uti_paying_90"], save.uti_paying_90),
        ],
        "save_rate_label": LABELS["save_rate"],
        "save_how": {key: HOW[key] for key in ("requests_opened", "save_rate", "uti_ended", "uti_paying_90")},
    }


def _unit_context(
    request: HttpRequest,
    period: Period,
    filters: MetricsFilters,
    *,
    margin=None,
    spend_form: SpendForm | None = None,
    margin_form: GrossMarginForm | None = None,
) -> dict:
    """The unit economics card: its figures (whole workspace) and, for those who may, the spend and margin forms."""
    unit = selectors.unit_economics_of(request.user, period, margin=margin)
    if unit is None:
        return {"unit": None}
    current_margin = unit.figures["gross_margin"].value
    return {
        "unit": unit,
        "unit_figures": [
            (
                key,
                LABELS[key],
                HOW.get(key, ""),
                unit.figures[key],
                unit.previous_figures.get(key),
                healthy(unit.figures[key]),
            )
            for key in UNIT_FIGURES
        ],
        "page_state": state_of(period.kind, period.end, filters, start=period.start),
        "can_enter_spend": can_enter_spend(request.user),
        "can_set_margin": can_set_gross_margin(request.user),
        "spend_form": spend_form or SpendForm(prefix="spend", initial={"month": f"{period.end:%Y-%m}"}),
        "margin_form": margin_form
        or GrossMarginForm(prefix="margin", initial={"gross_margin_percent": current_margin * 100}),
    }


def _unit_answer(
    request: HttpRequest, page_form: MetricsForm, period: Period, filters: MetricsFilters, *, status=200, **forms
) -> HttpResponse:
    """After a spend or margin form: the card again (htmx; 422 with the form's messages when it failed), or,
    without JavaScript, back to the page (or the page with the messages)."""
    if request.htmx:
        context = {"period": period, "filters": filters, "saved": status == 200}
        context |= _unit_context(request, period, filters, **forms)
        return render(request, "metrics/overview.html#unit_economics", context, status=status)
    if status == 200:
        query = query_of(period.kind, period.end, filters, start=period.start)
        return redirect(f"{reverse('metrics:overview')}?{query}#unit-economics")
    return _panel(request, "unit_economics", (page_form, period, filters), **forms)


@login_required
@require_POST
def spend_enter(request: HttpRequest) -> HttpResponse:
    """A leader or admin records a month's sales and marketing spend; the card answers with the new CAC."""
    if not can_enter_spend(request.user):
        raise PermissionDenied
    page_form, period, filters = read_metrics_request(request.user, request.POST)
    form = SpendForm(request.POST, prefix="spend")
    if form.is_valid():
        try:
            services.spend_record(
                month=form.cleaned_data["month"],
                amount_cents=form.cleaned_data["amount"],
                notes=form.cleaned_data["notes"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if not request.htmx:  # the card says so itself after an htmx answer
                month = formats.date_format(form.cleaned_data["month"], "F Y")
                messages.success(request, _("Spend recorded for %(month)s.") % {"month": month})
            return _unit_answer(request, page_form, period, filters)
    return _unit_answer(request, page_form, period, filters, status=422, spend_form=form)


@login_required
@require_POST
def gross_margin_set(request: HttpRequest) -> HttpResponse:
    """An admin sets the workspace's gross margin; LTV, LTV:CAC and CAC payback follow."""
    if not can_set_gross_margin(request.user):
        raise PermissionDenied
    page_form, period, filters = read_metrics_request(request.user, request.POST)
    form = GrossMarginForm(request.POST, prefix="margin")
    if form.is_valid():
        try:
            services.gross_margin_set(percent=form.cleaned_data["gross_margin_percent"], actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _unit_answer(request, page_form, period, filters)
    return _unit_answer(request, page_form, period, filters, status=422, margin_form=form)


SPEND_IMPORT_SESSION_KEY = "metrics_spend_import"


@login_required
def spend_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV of months and amounts → every row checked, nothing written → confirm → all rows or none."""
    if not can_enter_spend(request.user):
        raise PermissionDenied
    step = import_step(
        request,
        form_class=SpendImportForm,
        session_key=SPEND_IMPORT_SESSION_KEY,
        upload=lambda data: {"text": data["file"]},
        run=lambda kept, commit: services.spend_import(text=kept["text"], actor=request.user, commit=commit),
        page="metrics:spend_import",
    )
    if step.done:
        return step.done
    context = {"form": step.form, "report": step.report, "key_label": _("Month"), "columns": services.SPEND_COLUMNS}
    return render(request, "metrics/spend_import.html", context, status=step.status)


@login_required
def drilldown(request: HttpRequest) -> HttpResponse:
    """The customers behind one figure of the page: their amounts add up to it."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The drill-down reads the customers' facts stored with the rollups: refreshed first, as on the page.
        services.rollups_refresh()
    figure = request.GET.get("figure", "")
    by_request = figure in selectors.SAVE_DRILLS
    if figure not in selectors.DRILLS and not by_request:
        raise Http404
    _form, period, filters = _resolve(request)
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 1
    cohort, reason = read_cohort(request.GET), read_reason(request.GET)
    if by_request:
        cohort = reason = None
        page = selectors.save_drilldown(request.user, period, filters, figure, page=number)
    else:
        page = selectors.drilldown(request.user, period, filters, figure, page=number, cohort=cohort, reason=reason)
    back = query_of(period.kind, period.end, filters, start=period.start)
    here = query_of(
        period.kind,
        period.end,
        filters,
        start=period.start,
        cohort=f"{cohort:%Y-%m}" if cohort else None,
        reason=reason,
        figure=figure,
    )
    context = {
        "cohort": cohort,
        "reason": reason,
        "figure": figure,
        "label": LABELS.get(figure, figure),
        "how": HOW.get(figure, ""),
        "by_request": by_request,
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

EXPORTS = ("headline", "movements", "csms", "customers", "unit_economics", "cohorts", *views_operations.EXPORTS)


def _reais(cents: int | None) -> str:
    return "" if cents is None else f"{Decimal(cents) / 100:.2f}"


def _decimal(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.6f}"


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
    if table in views_operations.EXPORTS:
        return views_operations.export_rows(user, table, period, filters)
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
    if table == "unit_economics":
        unit = selectors.unit_economics_of(user, period)
        if unit is None:
            raise Http404
        rows = [[_("Figure"), _("Value"), _("Previous period"), _("Why undefined")]]
        for key in UNIT_FIGURES:
            fig = unit.figures[key]
            rows.append([str(LABELS[key]), _value(fig), _value(unit.previous_figures.get(key)), str(fig.why)])
        return rows
    if table == "cohorts":
        grid = selectors.cohort_table(user, period.end, filters)
        rows = [[_("Cohort"), _("Months after month 0"), _("Month"), _("Customers paying"), _("MRR"),
                 _("Logo retention"), _("Net MRR retention")]]  # fmt: skip
        for row in grid.rows:
            for cell in row.cells:
                retention = [_decimal(cell.logo_retention), _decimal(cell.mrr_retention)]
                rows.append([f"{row.cohort:%Y-%m}", cell.age, f"{cell.month:%Y-%m}", cell.customers,
                             _reais(cell.mrr_cents), *retention])  # fmt: skip
        return rows
    if table == "csms":
        comparison = selectors.csm_comparison(user, period, filters)
        operations.extend_comparison(comparison, operations.comparison_operations(user, period, filters))
        rows = [
            [_("CSM"), *[str(LABELS[k]) for k in selectors.COMPARED], *map(str, operations.COMPARISON_LABELS.values())]
        ]
        extra = [r for r in (comparison.total, comparison.median) if r is not None]
        for row in [*comparison.rows, *extra]:
            name = _("Team median") if row.is_median else _("Team total") if row.is_total else row.name or _("No CSM")
            rows.append([_text_cell(str(name)), *[_value(fig) for _key, fig in row.cells]])
        return rows
    figure = request.GET.get("figure", "")
    if figure in selectors.SAVE_DRILLS:
        page = selectors.save_drilldown(user, period, filters, figure, per_page=EXPORT_ALL)
    elif figure not in selectors.DRILLS:
        raise Http404
    else:
        page = selectors.drilldown(
            user,
            period,
            filters,
            figure,
            per_page=EXPORT_ALL,
            cohort=read_cohort(request.GET),
            reason=read_reason(request.GET),
        )
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
