from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from core import clock
from core.csvfiles import CsvUploadForm
from health.models import Band


class UsageImportForm(CsvUploadForm):
    """A CSV of usage events (health.imports)."""


# The health override form of the customer page.


class HealthOverrideForm(forms.Form):
    band = forms.ChoiceField(label=_("Band"), choices=[("", "—"), *Band.choices])
    score = forms.IntegerField(label=_("Score"), min_value=0, max_value=100, required=False)
    reason = forms.CharField(
        label=_("Why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you know that the measures do not."),
    )
    ends_on = forms.DateField(
        label=_("Until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The computed band shows again the day after."),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initial", {"ends_on": clock.today() + timedelta(days=30)})
        kwargs.setdefault("auto_id", "id_health_%s")
        super().__init__(*args, **kwargs)
