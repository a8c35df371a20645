"""The health profile editor's form and the filters of the health pages. Forms read and show errors in the
person's language; the rules are health.profile_rules', applied again by the service that saves."""

from django import forms
from django.utils.translation import gettext_lazy as _

from health.models import Band
from health.profile_rules import (
    FIELDS,
    key_events_errors,
    key_events_from_text,
    measure_label,
    measure_order,
    version_errors,
)

NO_SCORE = "none"
# The editor's columns, also shown beside each input on a phone, where the table's rows stack.
COLUMNS = {"weight": _("Weight"), "worst": _("Worst"), "best": _("Best"), "fresh_days": _("Fresh for (days)")}


class ProfileVersionForm(forms.Form):
    """One field per measure and setting (``adoption-weight``, ``adoption-worst``…), and the band thresholds."""

    red_max = forms.IntegerField(label=_("Red up to"), min_value=0, max_value=100)
    yellow_max = forms.IntegerField(label=_("Yellow up to"), min_value=0, max_value=100)
    key_events = forms.CharField(
        label=_("Key events"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The usage events the usage depth measure counts, exactly as your product sends their names, one a "
            "line or separated by commas (e.g. report.created, invoice.sent). Empty: every event counts."
        ),
    )

    def __init__(self, *args, measures: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.measure_keys = measure_order(measures)
        for key in self.measure_keys:
            label = measure_label(key)
            self.fields[f"{key}-weight"] = forms.IntegerField(
                label=_("%(measure)s: weight") % {"measure": label}, min_value=0
            )
            self.fields[f"{key}-worst"] = forms.DecimalField(
                label=_("%(measure)s: worst") % {"measure": label}, max_digits=12, decimal_places=4
            )
            self.fields[f"{key}-best"] = forms.DecimalField(
                label=_("%(measure)s: best") % {"measure": label}, max_digits=12, decimal_places=4
            )
            self.fields[f"{key}-fresh_days"] = forms.IntegerField(
                label=_("%(measure)s: freshness in days") % {"measure": label}, min_value=1, max_value=3650
            )

        for name, field in self.fields.items():
            if "-" in name:
                # In the table, the column says which setting: the label names the measure too, for screen readers.
                field.widget.attrs["aria-label"] = field.label
                if isinstance(field, forms.DecimalField):
                    field.widget.attrs["step"] = "any"

    @staticmethod
    def initial_from(version) -> dict:
        initial = {
            "red_max": version.red_max,
            "yellow_max": version.yellow_max,
            "key_events": "\n".join(version.key_events),
        }
        for key, settings in version.measures.items():
            for field in FIELDS:
                initial[f"{key}-{field}"] = settings.get(field)
        return initial

    def rows(self) -> list[dict]:
        """The measures as the table shows them: a label and the bound fields of its settings."""
        return [
            {
                "key": key,
                "label": measure_label(key),
                "fields": [(COLUMNS[field], self[f"{key}-{field}"]) for field in FIELDS],
            }
            for key in self.measure_keys
        ]

    def measures(self) -> dict:
        return {key: {field: self.cleaned_data.get(f"{key}-{field}") for field in FIELDS} for key in self.measure_keys}

    def clean_key_events(self) -> list[str]:
        names = key_events_from_text(self.cleaned_data["key_events"])
        errors = key_events_errors(names, dict.fromkeys(self.measure_keys))
        if errors:
            raise forms.ValidationError(errors)
        return names

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        for field, messages in version_errors(
            self.measures(), cleaned.get("red_max"), cleaned.get("yellow_max")
        ).items():
            for message in messages:
                self.add_error(None if field == "__all__" else field, message)
        return cleaned


class HealthCustomersForm(forms.Form):
    """The filters of the list behind each count of the health overview."""

    band = forms.ChoiceField(
        label=_("Health"),
        required=False,
        choices=[("", _("All bands")), *Band.choices, (NO_SCORE, _("No score"))],
    )
    owner = forms.ChoiceField(label=_("CSM"), required=False)

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("All CSMs")),
            *[(str(pk), name) for pk, name in owners],
            (NO_SCORE, _("No CSM")),
        ]
