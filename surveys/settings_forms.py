from django import forms
from django.utils.translation import gettext_lazy as _


class SurveyDefaultsForm(forms.Form):
    fatigue_days = forms.IntegerField(
        label=_("Fatigue rule (days)"),
        min_value=0,
        help_text=_("Nobody is surveyed more than once in this many days."),
    )
    reminder_after_days = forms.IntegerField(
        label=_("Remind after (days)"), min_value=0, help_text=_("0 sends no reminder.")
    )
    expires_after_days = forms.IntegerField(
        label=_("Links expire after (days)"), min_value=1, help_text=_("Answers are taken until then.")
    )
