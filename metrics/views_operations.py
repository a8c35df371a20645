"""The CS operations section's customers, and its CSV; the churn requests and UTI card's CSV."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.csvfiles import spreadsheet_safe
from metrics import operations, selectors
from metrics.figures import LABELS
from metrics.forms import read_metrics_request
from metrics.links import query_of
from metrics.periods import Period
from metrics.selectors import MetricsFilters

ISM_HOW = ("first_value_days", "onboarding_on_time")
CSM_HOW = ("handoffs_on_time", "review_coverage", "loops", "tasks_overdue")


def section_context(ops: operations.Operations) -> dict:
    """What the page's CS operations section shows beside the rows."""
    isms = [(key, operations.LABELS[key]) for key in operations.ISM_COLUMNS]
    csms = [(key, operations.LABELS[key]) for key in operations.CSM_COLUMNS]
    return {
        "ops": ops,
        "ops_tables": [
            (_("Onboarding, per ISM"), "ops-isms", ops.ism_rows, ops.ism_summary, isms, _("ISM")),
            (_("CS operations, per CSM"), "ops-csms", ops.csm_rows, ops.csm_summary, csms, _("CSM")),
        ],
        "ops_drills": operations.COLUMN_DRILLS,
        "ops_how": [
            (operations.LABELS.get(key) or _("Detractor loops"), operations.HOW[key]) for key in (*ISM_HOW, *CSM_HOW)
        ],
    }


def nps_months(period: Period) -> int:
    """The survey results' period (3, 6, 12 or 24 months up to now) that covers ``period``'s first month."""
    months = selectors.months_from(period.start, selectors.current_month())
    return next((n for n in (3, 6, 12, 24) if n >= len(months)), 24)


@login_required
def customers(request: HttpRequest) -> HttpResponse:
    """The customers behind one CS operations figure, of one person (``person``) or of everyone the user reads."""
    figure = request.GET.get("figure", "")
    if figure not in operations.DRILLS:
        raise Http404
    _form, period, filters = read_metrics_request(request.user, request.GET)
    person = request.GET.get("person", "")
    person_id = int(person) if person.isdigit() and len(person) < 10 else None
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 1
    page = operations.operations_drilldown(request.user, period, filters, figure, person=person_id, page=number)
    here = query_of(period.kind, period.end, filters, start=period.start, figure=figure, person=person_id)
    context = {
        "figure": figure,
        "label": operations.DRILL_LABELS[figure],
        "how": _how_of(figure),
        "period": period,
        "page": page,
        "rows": page.rows,
        "back": query_of(period.kind, period.end, filters, start=period.start),
        "here": here,
        "person_name": next((c.owner.full_name for c, _i in page.rows if person_id and c.owner_id == person_id), ""),
    }
    return render(request, "metrics/operations_customers.html", context)


def _how_of(figure: str) -> str:
    key = {
        "first_value_reached": "first_value_days", "first_value_due": "onboarding_on_time",
        "onboarding_late": "onboarding_on_time", "handoffs": "handoffs_on_time", "handoffs_late": "handoffs_on_time",
        "review_eligible": "review_coverage", "reviews_overdue": "review_coverage", "detractors": "loops",
        "loops_open": "loops", "tasks_overdue": "tasks_overdue",
    }[figure]  # fmt: skip
    return operations.HOW[key]


# --- CSV -------------------------------------------------------------------------------------------------

EXPORTS = ("operations", "churn_requests")


def _cell(fig) -> str:
    if fig is None or fig.value is None:
        return ""
    return f"{fig.value:.6f}" if fig.unit in ("rate", "days", "score") else str(fig.value)


def _name(row) -> str:
    if row.is_median:
        return _("Team median")
    if row.is_total:
        return _("Team total")
    return spreadsheet_safe(row.name or _("No one"))


def export_rows(user, table: str, period: Period, filters: MetricsFilters) -> list[list]:
    if table == "churn_requests":
        save = selectors.save_figures(user, period, filters)
        rate = "" if save.save_rate.value is None else f"{save.save_rate.value:.6f}"
        paying = "" if save.uti_paying_rate.value is None else f"{save.uti_paying_rate.value:.6f}"
        return [
            [_("Figure"), _("Value"), _("Why undefined")],
            [str(LABELS["requests_opened"]), save.opened, ""],
            [str(LABELS["requests_saved"]), save.saved, ""],
            [str(LABELS["requests_lost"]), save.lost, ""],
            [str(LABELS["requests_open"]), save.still_open, ""],
            [str(LABELS["save_rate"]), rate, str(save.save_rate.why)],
            [str(LABELS["uti_ended"]), save.uti_ended, ""],
            [str(LABELS["uti_recovered"]), save.uti_recovered, ""],
            [str(LABELS["uti_churned"]), save.uti_churned, ""],
            [str(LABELS["uti_checked"]), save.uti_checked, ""],
            [str(LABELS["uti_paying_90"]), save.uti_paying_90, ""],
            [_("Still paying at 90 days (share)"), paying, str(save.uti_paying_rate.why)],
        ]
    ops = operations.cs_operations(user, period, filters)
    rows = [[_("Table"), _("Person"), *[str(operations.LABELS[k]) for k in operations.ISM_COLUMNS]]]
    isms = [*ops.ism_rows, *([ops.ism_summary] if ops.ism_summary else [])]
    for row in isms:
        rows.append([_("Onboarding, per ISM"), _name(row), *[_cell(fig) for _k, fig in row.cells]])
    rows.append([_("Table"), _("Person"), *[str(operations.LABELS[k]) for k in operations.CSM_COLUMNS]])
    for row in [*ops.csm_rows, *([ops.csm_summary] if ops.csm_summary else [])]:
        rows.append([_("CS operations, per CSM"), _name(row), *[_cell(fig) for _k, fig in row.cells]])
    return rows
