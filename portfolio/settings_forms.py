"""The journey's Settings forms: they read what was typed; the rules are in portfolio.settings_services."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portfolio.models import ChurnCategory, ServiceModelPolicy
from portfolio.settings_services import (
    HANDOFF_EFFECT,
    ONBOARDING_EFFECT,
    POLICY_LIMITS,
    REVIEW_EFFECT,
    UTI_EFFECT,
)


class PolicyForm(forms.Form):
    """One service model's policy; the page shows one per service model, told apart by their prefix."""

    first_value_days = forms.IntegerField(
        label=_("First value within (days)"),
        min_value=POLICY_LIMITS["first_value_days"][0],
    )
    first_success_days = forms.IntegerField(
        label=_("First success within (days)"),
        min_value=POLICY_LIMITS["first_success_days"][0],
        help_text=ONBOARDING_EFFECT,
    )
    review_every_months = forms.IntegerField(
        label=_("Success review every (months)"),
        required=False,
        min_value=POLICY_LIMITS["review_every_months"][0],
        help_text=format_lazy("{} {}", _("Empty: no scheduled reviews."), REVIEW_EFFECT),
    )
    handoff_by_meeting = forms.BooleanField(
        label=_("Handoff must be a meeting"), required=False, help_text=HANDOFF_EFFECT
    )
    uti_days = forms.IntegerField(label=_("Days in UTI"), min_value=POLICY_LIMITS["uti_days"][0], help_text=UTI_EFFECT)

    @classmethod
    def for_policy(cls, policy: ServiceModelPolicy, data=None) -> "PolicyForm":
        initial = {name: getattr(policy, name) for name in cls.base_fields}
        return cls(data, prefix=policy.service_model, initial=initial)


class ChurnCategoryForm(forms.Form):
    name_pt = forms.CharField(label=_("Name in Portuguese"), max_length=100)
    name_en = forms.CharField(label=_("Name in English"), max_length=100)


class ChurnReasonForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=ChurnCategory.objects.order_by("name_pt"))
    name_pt = forms.CharField(
        label=_("Reason in Portuguese"),
        max_length=150,
        help_text=_("Specific enough to drive an action: “Missing integration with the ERP”, not “Saw no value”."),
    )
    name_en = forms.CharField(label=_("Reason in English"), max_length=150)
    needs_detail = forms.BooleanField(
        label=_("The CSM must explain it"), required=False, help_text=_("For “other” reasons.")
    )
