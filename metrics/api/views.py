"""The metrics API: the page's figures, per-CSM comparison and drill-downs, with the same period and filters
as the page's URL and the same door (``metrics.selectors``)."""

from dataclasses import asdict

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import TokenScopeAllows
from metrics import selectors
from metrics.api import serializers as s
from metrics.figures import HOW
from metrics.forms import read_metrics_request
from metrics.periods import PeriodKind

PARAMETERS = [
    OpenApiParameter("period", str, enum=PeriodKind.values, description="month (default), quarter, year, t12m"),
    OpenApiParameter("month", str, description="YYYY-MM: the period's last month, or a month in it (default: now)"),
    OpenApiParameter("owner", int, description="A CSM (owner at the start of the period); leaders and admins"),
    OpenApiParameter("segment", str),
    OpenApiParameter("service_model", str),
    OpenApiParameter("plan_tier", str),
]
SUMMARY_FIGURES = [
    "mrr", "arr", "mrr_start", "net_new", "new", "expansion", "reactivation", "contraction", "churn", "paying",
    "customers_start", "arpa", "churned", "voluntary_churned", "involuntary_churned", "voluntary_churn",
    "involuntary_churn", "joined_and_churned", "logo_churn", "logo_churn_annualised", "gross_mrr_churn",
    "net_mrr_churn", "grr", "nrr", "nrr_t12m", "quick_ratio", "ltv", "lifetime",
]  # fmt: skip


def _period(period) -> dict:
    return {"kind": period.kind, "start": period.start, "end": period.end, "label": period.label}


class MetricsSummaryView(APIView):
    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows]

    @extend_schema(
        parameters=PARAMETERS,
        responses=s.SummarySerializer,
        description=(
            "The headline figures of a period with the previous period's beside each, and the MRR movements of "
            "each month in it. A customer counts with its CSM, segment, plan and service model at the start of "
            "the period; an undefined rate is null with the reason in `why`."
        ),
    )
    def get(self, request):
        _form, period, filters = read_metrics_request(request.user, request.query_params)
        data = selectors.metrics_overview(request.user, period, filters)
        figures = [
            {"key": key, "figure": data.figures[key], "previous": data.previous_figures.get(key),
             "how": HOW.get(key, "")}
            for key in SUMMARY_FIGURES
            if key in data.figures
        ]  # fmt: skip
        months = [{"month": month, "net_new_cents": t.net_new_cents, **asdict(t)} for month, t in data.months]
        body = {"period": _period(period), "previous": _period(data.previous), "figures": figures, "months": months}
        return Response(s.SummarySerializer(body).data)


class MetricsCsmView(APIView):
    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows]

    @extend_schema(
        parameters=PARAMETERS,
        responses=s.CsmComparisonSerializer,
        description=(
            "One row per CSM (owner at the start of the period) with the team's total, for leaders, admins and "
            "viewers; a CSM gets their own row and the median of their team's CSMs."
        ),
    )
    def get(self, request):
        _form, period, filters = read_metrics_request(request.user, request.query_params)
        comparison = selectors.csm_comparison(request.user, period, filters)
        body = {"period": _period(period), "rows": comparison.rows, "total": comparison.total,
                "median": comparison.median}  # fmt: skip
        return Response(s.CsmComparisonSerializer(body).data)


class MetricsCustomersView(APIView):
    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows]

    @extend_schema(
        parameters=[
            OpenApiParameter("figure", str, required=True, enum=sorted(selectors.DRILLS)),
            OpenApiParameter("page", OpenApiTypes.INT),
            *PARAMETERS,
        ],
        responses=s.DrillPageSerializer,
        description="The customers behind one figure, largest first; `total_cents` adds all of them up.",
    )
    def get(self, request):
        figure = request.query_params.get("figure", "")
        if figure not in selectors.DRILLS:
            raise exceptions.ValidationError({"figure": [_("Unknown figure.")]})
        try:
            number = int(request.query_params.get("page", 1))
        except ValueError:
            number = 1
        _form, period, filters = read_metrics_request(request.user, request.query_params)
        page = selectors.drilldown(request.user, period, filters, figure, page=number)
        page.figure, page.period = figure, _period(period)
        return Response(s.DrillPageSerializer(page).data)
