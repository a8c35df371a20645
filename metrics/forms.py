import re
from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.csvfiles import CsvUploadForm
from metrics import inputs, ranges, selectors
from metrics.periods import MAX_CUSTOM_MONTHS, Period, PeriodKind, months_apart
from metrics.selectors import MetricsFilters
from portfolio.models import PlanTier, Segment, ServiceModel

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MetricsForm(forms.Form):
    """The period and slices of the metrics page, read from the URL so a view can be bookmarked. A value
    that does not parse is ignored (the default applies), never an error."""

    period = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, required=False)
    month = forms.CharField(label=_("Ending in"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    # A custom range's first month (``from`` in the URL), with ``month`` its last.
    start = forms.CharField(label=_("From"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    owner = forms.TypedChoiceField(label=_("CSM"), coerce=int, empty_value=None, required=False)
    segment = forms.ChoiceField(label=_("Segment"), choices=[("", _("All segments")), *Segment.choices], required=False)
    service_model = forms.ChoiceField(
        label=_("Service model"), choices=[("", _("All models")), *ServiceModel.choices], required=False
    )
    plan_tier = forms.ChoiceField(label=_("Plan"), choices=[("", _("All plans")), *PlanTier.choices], required=False)

    def __init__(self, *args, owners=(), **kwargs):
        data = args[0] if args else kwargs.get("data")
        if data is not None and "from" in data:  # ``from`` in the URL; a Python keyword, so ``start`` here
            data = data.copy()
            data["start"] = data.get("from")
            args = (data, *args[1:]) if args else args
            kwargs = {**kwargs, "data": data} if "data" in kwargs else kwargs
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("All CSMs")), *[(u.pk, u.full_name) for u in owners]]

    def clean_month(self) -> date | None:
        match = MONTH.match(self.cleaned_data.get("month") or "")
        if not match or not 1 <= int(match.group(2)) <= 12:
            return None
        return date(int(match.group(1)), int(match.group(2)), 1)

    def clean_start(self) -> date | None:
        value = (self.cleaned_data.get("start") or "").strip()
        if self.data.get("period") != PeriodKind.CUSTOM:
            return None
        match = MONTH.match(value)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise forms.ValidationError(_("Give the range's first month as a month and a year (YYYY-MM)."))
        return date(int(match.group(1)), int(match.group(2)), 1)

    def clean(self):
        data = super().clean()
        start = data.get("start")
        if data.get("period") != PeriodKind.CUSTOM or start is None:
            return data
        end = min(data.get("month") or self.current, self.current)
        if start > self.current:
            self.add_error("start", _("The range cannot start after the current month."))
        elif start > end:
            self.add_error("start", _("The range must start on or before the month it ends in."))
        elif months_apart(start, end) + 1 > MAX_CUSTOM_MONTHS:
            self.add_error("start", _("A range can cover at most %(n)s months.") % {"n": MAX_CUSTOM_MONTHS})
        return data

    current = date.max

    def resolve(self, *, current: date) -> tuple[Period, MetricsFilters]:
        data = {}
        self.current = current
        if self.is_bound:
            self.is_valid()  # fills cleaned_data with the fields that parsed
            data = self.cleaned_data
        month = data.get("month") or current
        kind = data.get("period") or PeriodKind.MONTH
        if kind == PeriodKind.CUSTOM and data.get("start") and not self.errors.get("start"):
            period = Period.custom(data["start"], min(month, current))
        else:
            # A custom range that is not valid shows its month, with the error beside the picker.
            kind = PeriodKind.MONTH if kind == PeriodKind.CUSTOM else kind
            period = Period.of(kind, min(month, current), current=current)
        filters = MetricsFilters(
            owner=data.get("owner"),
            segment=data.get("segment") or "",
            service_model=data.get("service_model") or "",
            plan_tier=data.get("plan_tier") or "",
        )
        return period, filters


def read_metrics_request(user, data) -> tuple[MetricsForm, Period, MetricsFilters]:
    """The period and filters a page or API call asks for. Only those who compare CSMs may filter by one; a
    CSM's figures are their own portfolio's whatever the URL says (the door scopes them anyway)."""
    compares = selectors.sees_every_csm(user)
    form = MetricsForm(data or None, owners=selectors.metric_owners_visible_to(user) if compares else [])
    period, filters = form.resolve(current=selectors.current_month())
    ranges.rollups_for(period)
    if not compares:
        filters = MetricsFilters(
            segment=filters.segment, service_model=filters.service_model, plan_tier=filters.plan_tier
        )
    return form, period, filters


def read_reason(data) -> int | str | None:
    """The churn reason a drill-down narrows to: an id, or "none" (churned without a churn request)."""
    value = ((data or {}).get("reason") or "").strip()
    if value == "none":
        return value
    return int(value) if value.isdigit() and len(value) < 10 else None


def read_cohort(data) -> date | None:
    """The cohort (a month, YYYY-MM) a drill-down narrows to; anything else is no cohort."""
    match = MONTH.match((data or {}).get("cohort") or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


class SpendForm(forms.Form):
    """A month's sales and marketing spend, as a leader types it (the amount in reais: 12.500,00 or 12500.00)."""

    month = forms.CharField(label=_("Month"), widget=forms.TextInput(attrs={"type": "month"}))
    amount = forms.CharField(
        label=_("Sales and marketing spend (R$)"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_month(self) -> date:
        try:
            return inputs.parse_month(self.cleaned_data.get("month", ""))
        except inputs.BadInput as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_amount(self) -> int:
        try:
            return inputs.parse_reais(self.cleaned_data.get("amount", ""))
        except inputs.BadInput as exc:
            raise forms.ValidationError(str(exc)) from exc


class GrossMarginForm(forms.Form):
    gross_margin_percent = forms.DecimalField(
        label=_("Gross margin (%)"), min_value=Decimal("0.01"), max_value=Decimal(100), decimal_places=2, localize=True
    )


class SpendImportForm(CsvUploadForm):
    max_megabytes = 1
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns month and amount (currency and notes optional); UTF-8, commas or semicolons, at most 1 MB."
        ),
    )
