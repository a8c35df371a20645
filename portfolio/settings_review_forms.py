"""The success-review template's Settings forms: they read what was typed; the rules are in
portfolio.settings_review_services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portfolio.models import ReviewPart, ReviewTemplateQuestion


class ReviewQuestionForm(forms.Form):
    """A question's two texts: a new one (with its part), or one already in the template (prefixed by its id)."""

    text_pt = forms.CharField(
        label=_("Question in Portuguese"),
        max_length=300,
        error_messages={"required": _("Give the question in Portuguese.")},
    )
    text_en = forms.CharField(
        label=_("Question in English"), max_length=300, error_messages={"required": _("Give the question in English.")}
    )

    @classmethod
    def for_question(cls, question: ReviewTemplateQuestion, data=None) -> "ReviewQuestionForm":
        return cls(data, prefix=f"q{question.pk}", initial={"text_pt": question.text_pt, "text_en": question.text_en})


class NewReviewQuestionForm(ReviewQuestionForm):
    part = forms.ChoiceField(label=_("Part of the review"), choices=ReviewPart.choices)

    field_order = ["part", "text_pt", "text_en"]
