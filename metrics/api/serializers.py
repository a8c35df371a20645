from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import bounds
from metrics import inputs


@extend_schema_field({"type": "number", "nullable": True})
class FigureValueField(serializers.Field):
    """Money in integer cents, counts as integers, rates and ratios as numbers (0.25 is 25 %); null when
    undefined."""

    def to_representation(self, value):
        if value is None:
            return None
        if isinstance(value, Decimal):
            return float(round(value, 6))
        return value


class FigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = FigureValueField(source="figure.value")
    unit = serializers.ChoiceField(source="figure.unit", choices=["money", "count", "rate", "ratio", "months"])
    why = serializers.CharField(source="figure.why", help_text="Why the value is undefined (empty when defined).")
    previous = FigureValueField(source="previous.value", help_text="The same figure for the previous period.")
    how = serializers.CharField(help_text="How the figure is computed.")


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField()
    start = serializers.DateField(help_text="First month (its first day).")
    end = serializers.DateField(help_text="Last month (its first day), included.")
    label = serializers.CharField()


class MonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    mrr_start_cents = serializers.IntegerField()
    new_cents = serializers.IntegerField()
    expansion_cents = serializers.IntegerField()
    reactivation_cents = serializers.IntegerField()
    contraction_cents = serializers.IntegerField()
    churn_cents = serializers.IntegerField()
    net_new_cents = serializers.IntegerField()
    mrr_end_cents = serializers.IntegerField()
    customers_start = serializers.IntegerField()
    customers_end = serializers.IntegerField()
    churned_customers = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous = PeriodSerializer()
    figures = FigureSerializer(many=True)
    months = MonthSerializer(many=True)


class CsmFigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = FigureValueField()
    unit = serializers.CharField()
    why = serializers.CharField()


class CsmRowSerializer(serializers.Serializer):
    owner_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    figures = CsmFigureSerializer(many=True, source="figure_list")


class CsmComparisonSerializer(serializers.Serializer):
    period = PeriodSerializer()
    rows = CsmRowSerializer(many=True, help_text="One row per CSM; a CSM gets only their own.")
    total = CsmRowSerializer(allow_null=True, help_text="The team's total (for those who compare CSMs).")
    median = CsmRowSerializer(allow_null=True, help_text="The team's median (for a CSM).")


class DrillRowSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(source="customer.pk")
    name = serializers.CharField(source="customer.name")
    amount_cents = serializers.IntegerField(help_text="What the customer adds to the figure.")
    mrr_start_cents = serializers.IntegerField()
    mrr_end_cents = serializers.IntegerField()


class DrillPageSerializer(serializers.Serializer):
    figure = serializers.CharField()
    period = PeriodSerializer()
    count = serializers.IntegerField(help_text="Customers behind the figure, on every page.")
    total_cents = serializers.IntegerField(help_text="Their amounts added up: the figure (or its numerator).")
    page = serializers.IntegerField(source="number")
    pages = serializers.IntegerField()
    results = DrillRowSerializer(many=True, source="rows")


class UnitEconomicsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous = PeriodSerializer()
    figures = FigureSerializer(many=True)


class SpendInputSerializer(serializers.Serializer):
    """A month's sales and marketing spend: ``month`` as YYYY-MM, ``amount_cents`` in integer cents."""

    month = serializers.CharField(help_text="YYYY-MM (or MM/YYYY).")
    amount_cents = serializers.IntegerField(min_value=0, max_value=bounds.MAX_CENTS)
    currency = serializers.CharField(required=False, allow_blank=True, max_length=3, help_text="BRL (the default).")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def validate_month(self, value: str):
        try:
            return inputs.parse_month(value)
        except inputs.BadInput as exc:
            raise serializers.ValidationError(str(exc)) from exc


class SpendSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day.")
    amount_cents = serializers.IntegerField()
    currency = serializers.CharField()
    notes = serializers.CharField()
    entered_by = serializers.CharField(source="entered_by.full_name", allow_null=True, default=None)
    entered_at = serializers.DateTimeField()
