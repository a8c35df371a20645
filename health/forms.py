from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from core import clock
from core.csvfiles import NotText, decode_csv
from health.models import Band


class UsageImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, separated by commas or semicolons, at most 2 MB."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 2 MB: split it."))
        try:
            return decode_csv(upload.read())
        except NotText as exc:
            raise forms.ValidationError(
                _("Could not read the file as text: save it as CSV (UTF-8 or Windows) and upload it again.")
            ) from exc


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
