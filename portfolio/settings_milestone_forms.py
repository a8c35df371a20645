"""The milestone templates' Settings forms: they read what was typed; the rules are in
portfolio.settings_milestone_services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portfolio.models import MilestoneTemplate, ServiceModel


class MilestoneTemplateForm(forms.Form):
    """A milestone's two names: a new one (with its service model), or one already there (prefixed by its id)."""

    name_pt = forms.CharField(
        label=_("Name in Portuguese"),
        max_length=200,
        error_messages={"required": _("Give the milestone's name in Portuguese.")},
    )
    name_en = forms.CharField(
        label=_("Name in English"),
        max_length=200,
        error_messages={"required": _("Give the milestone's name in English.")},
    )

    @classmethod
    def for_template(cls, template: MilestoneTemplate, data=None) -> "MilestoneTemplateForm":
        return cls(data, prefix=f"m{template.pk}", initial={"name_pt": template.name_pt, "name_en": template.name_en})


class NewMilestoneTemplateForm(MilestoneTemplateForm):
    service_model = forms.ChoiceField(
        label=_("Service model"),
        choices=ServiceModel.choices,
        error_messages={"required": _("Pick a service model.")},
    )

    field_order = ["service_model", "name_pt", "name_en"]
