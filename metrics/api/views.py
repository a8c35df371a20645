"""The metrics API: the page's figures, per-CSM comparison and drill-downs, with the same period and filters
as the page's URL and the same door (``metrics.selectors``)."""

from dataclasses import asdict

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import can_enter_spend, can_read_unit_economics
from accounts.api.permissions import TokenScopeAllows
from metrics import operations, selectors, services
from metrics.api import serializers as s
from metrics.figures import HOW, UNIT_FIGURES
from metrics.forms import read_cohort, read_metrics_request, read_reason
from metrics.periods import PeriodKind
from portfolio.api.views import ServiceErrorsMixin

PARAMETERS = [
    OpenApiParameter(
        "period", str, enum=PeriodKind.values, description="month (default), quarter, year, t12m, custom (with from)"
    ),
    OpenApiParameter("month", str, description="YYYY-MM: the period's last month, or a month in it (default: now)"),
    OpenApiParameter("from", str, description="YYYY-MM: a custom range's first month (period=custom); 400 if invalid"),
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


def read_request(user, params):
    """The period and filters an API call asks for; a custom range that is not valid is a 400 with its error
    (under ``from``), where the page shows it beside the picker."""
    form, period, filters = read_metrics_request(user, params)
    if form.errors.get("start"):
        raise exceptions.ValidationError({"from": form.errors["start"]})
    return form, period, filters


def period_body(period) -> dict:
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
        _form, period, filters = read_request(request.user, request.query_params)
        data = selectors.metrics_overview(request.user, period, filters)
        figures = [
            {"key": key, "figure": data.figures[key], "previous": data.previous_figures.get(key),
             "how": HOW.get(key, "")}
            for key in SUMMARY_FIGURES
            if key in data.figures
        ]  # fmt: skip
        months = [{"month": month, "net_new_cents": t.net_new_cents, **asdict(t)} for month, t in data.months]
        body = {
            "period": period_body(period),
            "previous": period_body(data.previous),
            "figures": figures,
            "months": months,
        }
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
        _form, period, filters = read_request(request.user, request.query_params)
        comparison = selectors.csm_comparison(request.user, period, filters)
        operations.extend_comparison(comparison, operations.comparison_operations(request.user, period, filters))
        body = {"period": period_body(period), "rows": comparison.rows, "total": comparison.total,
                "median": comparison.median}  # fmt: skip
        return Response(s.CsmComparisonSerializer(body).data)


class MetricsCustomersView(APIView):
    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows]

    @extend_schema(
        parameters=[
            OpenApiParameter("figure", str, required=True, enum=sorted(selectors.DRILLS)),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter(
                "cohort", str, description="YYYY-MM: only that cohort's customers, sliced by their month 0"
            ),
            OpenApiParameter(
                "reason", str, description="A churn reason's id, or none: the customers whose churn it ended"
            ),
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
        _form, period, filters = read_request(request.user, request.query_params)
        cohort = read_cohort(request.query_params)
        reason = read_reason(request.query_params)
        page = selectors.drilldown(request.user, period, filters, figure, page=number, cohort=cohort, reason=reason)
        page.figure, page.period = figure, period_body(period)
        return Response(s.DrillPageSerializer(page).data)


class MetricsUnitEconomicsView(APIView):
    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows]

    @extend_schema(
        parameters=PARAMETERS[:2],
        responses=s.UnitEconomicsSerializer,
        description=(
            "CAC, LTV:CAC and CAC payback of a period and the previous one, for the whole workspace (the spend is "
            "entered per workspace month, so the CSM and slice filters do not apply). Admins, leaders and viewers; "
            "403 for others."
        ),
    )
    def get(self, request):
        _form, period, _filters = read_request(request.user, request.query_params)
        unit = selectors.unit_economics_of(request.user, period)
        if unit is None:
            raise exceptions.PermissionDenied
        figures = [
            {"key": key, "figure": unit.figures[key], "previous": unit.previous_figures.get(key),
             "how": HOW.get(key, "")}
            for key in UNIT_FIGURES
        ]  # fmt: skip
        body = {"period": period_body(period), "previous": period_body(unit.previous), "figures": figures}
        return Response(s.UnitEconomicsSerializer(body).data)


class MetricsSpendView(ServiceErrorsMixin, APIView):
    """The workspace's monthly sales and marketing spend: read by those who read the unit economics, entered by
    admins and leaders (a month entered again is replaced)."""

    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows]
    service_error_fields = {"amount": "amount_cents"}

    @extend_schema(responses=s.SpendSerializer(many=True), description="Every month entered, oldest first.")
    def get(self, request):
        if not can_read_unit_economics(request.user):
            raise exceptions.PermissionDenied
        return Response(s.SpendSerializer(selectors.spend_months(), many=True).data)

    @extend_schema(
        request=s.SpendInputSerializer,
        responses={200: s.SpendSerializer, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
        description="Record a month's spend (replacing what was entered for it). 400 with field errors.",
    )
    def post(self, request):
        if not can_enter_spend(request.user):
            raise exceptions.PermissionDenied
        body = s.SpendInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        spend = services.spend_record(actor=request.user, **body.validated_data)
        return Response(s.SpendSerializer(spend).data)
