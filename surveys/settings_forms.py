from django import forms
from django.utils.translation import gettext_lazy as _

from surveys.models import ChiCriterion


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


class ChiCriterionForm(forms.Form):
    """One CHI criterion: the page shows one per position, told apart by their prefix, and one to add."""

    position = forms.TypedChoiceField(label=_("Position"), coerce=int, choices=[])
    text_pt = forms.CharField(label=_("Criterion in Portuguese"), max_length=200)
    text_en = forms.CharField(label=_("Criterion in English"), max_length=200)
    answered_by = forms.ChoiceField(label=_("Answered by"), choices=ChiCriterion.AnsweredBy.choices)

    def __init__(self, *args, positions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].choices = [(p, str(p)) for p in positions]
