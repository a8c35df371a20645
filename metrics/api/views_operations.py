"""The API of the CS operations section and of the churn requests and UTI card: the page's numbers, with the same
period, filters and door."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import TokenScopeAllows
from metrics import operations, selectors
from metrics.api.serializers import FigureValueField, PeriodSerializer
from metrics.api.views import PARAMETERS, period_body, read_request
from metrics.figures import HOW


class OpsFigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = FigureValueField()
    unit = serializers.CharField(help_text="count, rate (0.25 is 25 %), days or score (NPS, −100 to 100)")
    why = serializers.CharField(help_text="Why the value is undefined (empty when defined).")


class OpsRowSerializer(serializers.Serializer):
    person_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    figures = serializers.SerializerMethodField()

    @extend_schema_field(OpsFigureSerializer(many=True))
    def get_figures(self, row) -> list[dict]:
        return [OpsFigureSerializer(fig).data for _key, fig in row.cells]


class OperationsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    as_of = serializers.DateField(help_text="The day the snapshot figures (reviews, tasks overdue) are counted on.")
    isms = OpsRowSerializer(many=True, help_text="Onboarding per ISM; a person who does not compare gets only theirs.")
    ism_summary = OpsRowSerializer(allow_null=True, help_text="The total, or the team's median.")
    csms = OpsRowSerializer(many=True, help_text="CS operations per CSM; a CSM gets only their own row.")
    csm_summary = OpsRowSerializer(allow_null=True, help_text="The total, or the team's median.")
    how = serializers.DictField(child=serializers.CharField())


class MetricsOperationsView(APIView):
    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows]

    @extend_schema(
        parameters=PARAMETERS,
        responses=OperationsSerializer,
        description=(
            "Onboarding per ISM (days to first value, first value on time) and CS operations per CSM (handoffs on "
            "time, success-review coverage, detractor loops closed and their median days, tasks overdue) for the "
            "period. Leaders, admins and viewers get a row per person with the total; anyone else their own row "
            "and their team's median."
        ),
    )
    def get(self, request):
        _form, period, filters = read_request(request.user, request.query_params)
        ops = operations.cs_operations(request.user, period, filters)
        body = {
            "period": period_body(period),
            "as_of": ops.as_of,
            "isms": ops.ism_rows,
            "ism_summary": ops.ism_summary,
            "csms": ops.csm_rows,
            "csm_summary": ops.csm_summary,
            "how": {key: str(text) for key, text in operations.HOW.items()},
        }
        return Response(OperationsSerializer(body).data)


class ChurnRequestsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    requests_opened = serializers.IntegerField()
    requests_saved = serializers.IntegerField(help_text="Recovered, or recovered with a downsell.")
    requests_lost = serializers.IntegerField()
    requests_open = serializers.IntegerField()
    save_rate = FigureValueField(help_text="Saved ÷ (saved + lost); null when nothing was decided.")
    save_rate_why = serializers.CharField()
    uti_ended = serializers.IntegerField()
    uti_recovered = serializers.IntegerField()
    uti_churned = serializers.IntegerField()
    uti_checked = serializers.IntegerField(help_text="UTI stays whose 90th day fell in the period.")
    uti_paying_90 = serializers.IntegerField(help_text="Of those, the customers still paying on that day.")
    uti_paying_rate = FigureValueField()
    uti_paying_rate_why = serializers.CharField()
    how = serializers.DictField(child=serializers.CharField())


class MetricsChurnRequestsView(APIView):
    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows]

    @extend_schema(
        parameters=PARAMETERS,
        responses=ChurnRequestsSerializer,
        description=(
            "Churn requests opened in the period and what became of them (the save rate), UTI stays ended in it and "
            "the customers still paying 90 days after entering the UTI. Counted by each customer's CSM, segment, "
            "plan and service model now; there is no need for MRR."
        ),
    )
    def get(self, request):
        _form, period, filters = read_request(request.user, request.query_params)
        save = selectors.save_figures(request.user, period, filters)
        body = {
            "period": period_body(period),
            "requests_opened": save.opened,
            "requests_saved": save.saved,
            "requests_lost": save.lost,
            "requests_open": save.still_open,
            "save_rate": save.save_rate.value,
            "save_rate_why": str(save.save_rate.why),
            "uti_ended": save.uti_ended,
            "uti_recovered": save.uti_recovered,
            "uti_churned": save.uti_churned,
            "uti_checked": save.uti_checked,
            "uti_paying_90": save.uti_paying_90,
            "uti_paying_rate": save.uti_paying_rate.value,
            "uti_paying_rate_why": str(save.uti_paying_rate.why),
            "how": {key: str(HOW[key]) for key in ("requests_opened", "save_rate", "uti_ended", "uti_paying_90")},
        }
        return Response(ChurnRequestsSerializer(body).data)
