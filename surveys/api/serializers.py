"""Serializers of the surveys API. eNPS answers are anonymous: their row never carries the delivery, the
customer or the contact, whoever asks."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portfolio.api.serializers import ScopedPrimaryKeyRelatedField
from portfolio.models import Contact
from surveys import scoring
from surveys.models import Campaign, Delivery, Response, SurveyKind, Trigger
from surveys.selectors import contacts_surveyable_by

ZONES = ["critica", "aperfeicoamento", "qualidade", "excelencia"]


class SurveyCampaignSerializer(serializers.ModelSerializer):
    # Declared so the schema says what the API answers: "" for a campaign that no event starts.
    trigger = serializers.ChoiceField(
        choices=Trigger.choices, allow_blank=True, read_only=True, help_text=_("Empty unless an event starts it.")
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "team",
            "kind",
            "status",
            "mode",
            "trigger",
            "send_at",
            "every_days",
            "scale_max",
            "question_pt",
            "question_en",
            "fatigue_days",
            "reminder_after_days",
            "expires_after_days",
            "created_at",
            "last_run_at",
            "closed_at",
        ]
        read_only_fields = fields


class SurveyResponseSerializer(serializers.ModelSerializer):
    """One answer. eNPS answers are anonymous: ``id``, ``delivery``, ``customer``, ``contact`` and every timestamp
    are null (an id follows the order answers came in); ``answered_month`` is all they say about time."""

    ANONYMOUS_FIELDS = ("id", "delivery", "customer", "contact", "answered_at", "updated_at", "loop_closed_at")

    id = serializers.IntegerField(read_only=True, allow_null=True, help_text=_("Null for eNPS: answers are anonymous."))
    answered_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("Null for eNPS, which gives the month only.")
    )
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text=_("Null for eNPS."))
    answered_month = serializers.SerializerMethodField(
        help_text=_("The month the answer came in (YYYY-MM, local time): all an eNPS answer says about time.")
    )

    # A plain string here: the kinds are listed once, on the campaign (SurveyCampaignKindEnum).
    kind = serializers.CharField(read_only=True, help_text=_("The campaign's kind: nps, csat, ces, enps or chi."))

    delivery = serializers.IntegerField(
        source="delivery_id", read_only=True, allow_null=True, help_text=_("Null for eNPS: answers are anonymous.")
    )
    customer = serializers.IntegerField(
        source="customer_id", read_only=True, allow_null=True, help_text=_("Null for eNPS: answers are anonymous.")
    )
    contact = serializers.IntegerField(
        source="delivery.contact_id",
        read_only=True,
        allow_null=True,
        help_text=_("Who answered; null for eNPS, whose answers are anonymous."),
    )

    class Meta:
        model = Response
        fields = [
            "id",
            "campaign",
            "kind",
            "score",
            "comment",
            "chi_answers",
            "answered_month",
            "answered_at",
            "updated_at",
            "delivery",
            "customer",
            "contact",
            "loop_closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_answered_month(self, instance: Response) -> str:
        return timezone.localtime(instance.answered_at).strftime("%Y-%m")

    def to_representation(self, instance: Response) -> dict:
        data = super().to_representation(instance)
        if instance.kind == SurveyKind.ENPS:
            for name in self.ANONYMOUS_FIELDS:
                data[name] = None
        return data


class SurveyResultCountsSerializer(serializers.Serializer):
    planned = serializers.IntegerField(help_text=_("Surveys planned, sent or not."))
    sent = serializers.IntegerField()
    skipped = serializers.IntegerField()
    answered = serializers.IntegerField(help_text=_("Surveys sent that were answered."))
    promoters = serializers.IntegerField(allow_null=True, help_text=_("NPS and eNPS only."))
    passives = serializers.IntegerField(allow_null=True, help_text=_("NPS and eNPS only."))
    detractors = serializers.IntegerField(allow_null=True, help_text=_("NPS and eNPS only."))


class SurveyCampaignResultsSerializer(serializers.Serializer):
    """A campaign's results as the caller may see them (their team's or portfolio's customers)."""

    campaign = serializers.IntegerField()
    kind = serializers.CharField(help_text=_("The campaign's kind: nps, csat, ces, enps or chi."))
    answers = serializers.IntegerField(help_text=_("Answers counted in the score."))
    score = serializers.DecimalField(
        max_digits=5,
        decimal_places=scoring.DISPLAY_PLACES,
        rounding=scoring.DISPLAY_ROUNDING,
        allow_null=True,
        coerce_to_string=False,
        help_text=_(
            "NPS and eNPS: −100 to 100; CSAT: percent satisfied (top two boxes); CES and CHI: the average. Null with "
            "no answers, and for eNPS under 5 answers."
        ),
    )
    zone = serializers.ChoiceField(choices=ZONES, allow_null=True, help_text=_("The NPS zone; null for other kinds."))
    average = serializers.DecimalField(
        max_digits=5,
        decimal_places=scoring.DISPLAY_PLACES,
        rounding=scoring.DISPLAY_ROUNDING,
        allow_null=True,
        coerce_to_string=False,
    )
    share = serializers.DecimalField(
        max_digits=5,
        decimal_places=scoring.DISPLAY_PLACES,
        rounding=scoring.DISPLAY_ROUNDING,
        allow_null=True,
        coerce_to_string=False,
        help_text=_("CSAT: percent in the top two boxes; CES: percent of answers 5–7."),
    )
    hidden = serializers.BooleanField(help_text=_("eNPS with fewer than 5 answers: nothing is shown."))
    response_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=scoring.DISPLAY_PLACES,
        rounding=scoring.DISPLAY_ROUNDING,
        allow_null=True,
        coerce_to_string=False,
        help_text=_("Answered ÷ sent, in percent; null when nothing was sent."),
    )
    counts = SurveyResultCountsSerializer()


class SurveySendSerializer(serializers.Serializer):
    contact = ScopedPrimaryKeyRelatedField(
        selector=contacts_surveyable_by, model=Contact, help_text=_("A contact of a customer you may change.")
    )


class SurveyDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["id", "campaign", "contact", "customer", "status", "skip_reason", "created_at", "sent_at"]
        read_only_fields = fields


class SurveyBounceOutcomeSerializer(serializers.Serializer):
    """What one delivery status notification did (surveys.bounces.BounceOutcome)."""

    bounced = serializers.IntegerField(help_text=_("Reports that marked a survey email or its contact bounced."))
    ignored = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=_(
            "Reports that changed nothing, by reason: not_permanent (delayed or not a 5.x.x failure), not_ours, "
            "other_recipient, not_sent, already_bounced."
        ),
    )
