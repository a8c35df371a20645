"""Serializers of the journey's Settings API: service-model policies, the churn reason taxonomy and the
success-review questions. Input serializers read the shape of what is sent; the rules are the services' (the same
the Settings pages call), and their refusals come back as field errors."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portfolio.models import (
    ChurnCategory,
    ChurnReason,
    MilestoneTemplate,
    ReviewPart,
    ReviewTemplateQuestion,
    ServiceModel,
    ServiceModelPolicy,
)


def _max(model, field: str) -> int:
    return model._meta.get_field(field).max_length


# --- Journey policies --------------------------------------------------------------------------------------------


class JourneyPolicySerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="get_service_model_display", read_only=True)

    class Meta:
        model = ServiceModelPolicy
        fields = [
            "service_model",
            "label",
            "first_value_days",
            "first_success_days",
            "review_every_months",
            "handoff_by_meeting",
            "uti_days",
        ]
        read_only_fields = fields


class JourneyPolicyUpdateSerializer(serializers.Serializer):
    """A policy's values; with PATCH, those not sent keep their current value."""

    first_value_days = serializers.IntegerField(label=_("First value within (days)"))
    first_success_days = serializers.IntegerField(label=_("First success within (days)"))
    review_every_months = serializers.IntegerField(
        label=_("Success review every (months)"), allow_null=True, help_text=_("Empty: no scheduled reviews.")
    )
    handoff_by_meeting = serializers.BooleanField(label=_("Handoff must be a meeting"))
    uti_days = serializers.IntegerField(label=_("Days in UTI"))


# --- The churn reason taxonomy -----------------------------------------------------------------------------------


class SettingsChurnCategorySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True, help_text=_("The name in the caller's language."))
    reasons_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ChurnCategory
        fields = ["id", "code", "name", "name_pt", "name_en", "active", "reasons_count"]
        read_only_fields = fields


class ChurnCategoryWriteSerializer(serializers.Serializer):
    name_pt = serializers.CharField(label=_("Name in Portuguese"), max_length=_max(ChurnCategory, "name_pt"))
    name_en = serializers.CharField(label=_("Name in English"), max_length=_max(ChurnCategory, "name_en"))


class SettingsChurnReasonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True, help_text=_("The name in the caller's language."))
    in_use = serializers.IntegerField(read_only=True, help_text=_("How many churn requests name it."))
    kept_by_leme = serializers.BooleanField(
        read_only=True, help_text=_("Leme opens involuntary churn requests with it: it is neither retired nor deleted.")
    )

    class Meta:
        model = ChurnReason
        fields = [
            "id",
            "category",
            "code",
            "name",
            "name_pt",
            "name_en",
            "needs_detail",
            "active",
            "in_use",
            "kept_by_leme",
        ]
        read_only_fields = fields


class ChurnReasonCreateSerializer(serializers.Serializer):
    category = serializers.PrimaryKeyRelatedField(label=_("Category"), queryset=ChurnCategory.objects.all())
    name_pt = serializers.CharField(label=_("Reason in Portuguese"), max_length=_max(ChurnReason, "name_pt"))
    name_en = serializers.CharField(label=_("Reason in English"), max_length=_max(ChurnReason, "name_en"))
    needs_detail = serializers.BooleanField(label=_("The CSM must explain it"), required=False, default=False)


class ChurnReasonRenameSerializer(serializers.Serializer):
    """A reason's names and whether the CSM must explain it; with PATCH, those not sent stay as they are."""

    name_pt = serializers.CharField(label=_("Reason in Portuguese"), max_length=_max(ChurnReason, "name_pt"))
    name_en = serializers.CharField(label=_("Reason in English"), max_length=_max(ChurnReason, "name_en"))
    needs_detail = serializers.BooleanField(label=_("The CSM must explain it"))


# --- Success-review questions --------------------------------------------------------------------------------------


class SettingsReviewQuestionSerializer(serializers.ModelSerializer):
    text = serializers.CharField(
        source="__str__", read_only=True, help_text=_("The question in the caller's language.")
    )
    answered = serializers.SerializerMethodField(
        help_text=_("Whether a held review answered it (then it is retired, never deleted).")
    )

    class Meta:
        model = ReviewTemplateQuestion
        fields = ["id", "part", "key", "text", "text_pt", "text_en", "position", "active", "answered"]
        read_only_fields = fields

    def get_answered(self, question) -> bool:
        return question.key in self.context.get("answered", set())


class ReviewQuestionCreateSerializer(serializers.Serializer):
    part = serializers.ChoiceField(label=_("Part of the review"), choices=ReviewPart.choices)
    text_pt = serializers.CharField(
        label=_("Question in Portuguese"), max_length=_max(ReviewTemplateQuestion, "text_pt")
    )
    text_en = serializers.CharField(label=_("Question in English"), max_length=_max(ReviewTemplateQuestion, "text_en"))


class ReviewQuestionEditSerializer(serializers.Serializer):
    """A question's two texts; with PATCH, the one not sent stays as it is."""

    text_pt = serializers.CharField(
        label=_("Question in Portuguese"), max_length=_max(ReviewTemplateQuestion, "text_pt")
    )
    text_en = serializers.CharField(label=_("Question in English"), max_length=_max(ReviewTemplateQuestion, "text_en"))


class ReviewQuestionMoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        label=_("Direction"),
        choices=[("up", _("Up")), ("down", _("Down"))],
        help_text=_("Swap it with the question before (up) or after (down) it in its part."),
    )


# --- Onboarding milestone templates ------------------------------------------------------------------------------


class MilestoneTemplateSerializer(serializers.ModelSerializer):
    """An onboarding milestone a service model's new customers get; ``in_use`` counts the milestones it gave."""

    in_use = serializers.SerializerMethodField(help_text=_("How many customers' milestones it gave."))

    class Meta:
        model = MilestoneTemplate
        fields = ["id", "service_model", "name_pt", "name_en", "kind", "position", "active", "in_use",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields

    def get_in_use(self, template: MilestoneTemplate) -> int:
        in_use = getattr(template, "in_use", None)
        return template.milestones.count() if in_use is None else in_use


class MilestoneTemplateNamesSerializer(serializers.Serializer):
    name_pt = serializers.CharField(max_length=200, help_text=_("The milestone's name in Portuguese."))
    name_en = serializers.CharField(max_length=200, help_text=_("The milestone's name in English."))


class MilestoneTemplateCreateSerializer(MilestoneTemplateNamesSerializer):
    service_model = serializers.ChoiceField(choices=ServiceModel.choices)


class MilestoneTemplateMoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        label=_("Direction"),
        choices=[("up", _("Up")), ("down", _("Down"))],
        help_text=_("Swap it with the milestone before (up) or after (down) it in its service model's onboarding."),
    )
