"""The survey Settings API (``/api/v1/settings/``): the defaults new campaigns start from, and the CHI criteria.
Admins and leaders read them; admins change them through the services the Settings pages call
(surveys.settings_services), which check it again and record every change in the Settings history."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from accounts.access import ensure_can_change_settings
from accounts.api.base import SettingsViewSet
from surveys.models import ChiCriterion, SurveyDefaults
from surveys.settings_selectors import survey_defaults
from surveys.settings_services import chi_criterion_add, chi_criterion_save, survey_defaults_update

CHI_TEXT = ChiCriterion._meta.get_field("text_pt").max_length


class SurveyDefaultsSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyDefaults
        fields = ["fatigue_days", "reminder_after_days", "expires_after_days"]
        read_only_fields = fields


class SurveyDefaultsUpdateSerializer(serializers.Serializer):
    """The defaults; with PATCH, those not sent keep their current value."""

    fatigue_days = serializers.IntegerField(
        label=_("Fatigue rule (days)"), help_text=_("Nobody is surveyed more than once in this many days.")
    )
    reminder_after_days = serializers.IntegerField(label=_("Remind after (days)"), help_text=_("0 sends no reminder."))
    expires_after_days = serializers.IntegerField(
        label=_("Links expire after (days)"), help_text=_("Answers are taken until then.")
    )


class SettingsChiCriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChiCriterion
        fields = ["id", "position", "text_pt", "text_en", "answered_by"]
        read_only_fields = fields


class ChiCriterionEditSerializer(serializers.Serializer):
    """A criterion's wording and who answers it; with PATCH, what is not sent stays as it is."""

    text_pt = serializers.CharField(label=_("Criterion in Portuguese"), max_length=CHI_TEXT)
    text_en = serializers.CharField(label=_("Criterion in English"), max_length=CHI_TEXT)
    answered_by = serializers.ChoiceField(label=_("Answered by"), choices=ChiCriterion.AnsweredBy.choices)


class ChiCriterionCreateSerializer(ChiCriterionEditSerializer):
    position = serializers.IntegerField(label=_("Position"), help_text=_("A free position, 1 to 10."))


class SurveySettingsViewSet(SettingsViewSet):
    def ensure_changer(self, user) -> None:
        ensure_can_change_settings(user)


class SurveyDefaultsViewSet(SurveySettingsViewSet):
    """The defaults a new survey campaign starts from (one set for the workspace). A change applies to campaigns
    created from now on; those already created keep their own values."""

    serializer_class = SurveyDefaultsSerializer

    def scoped_queryset(self, user):
        return SurveyDefaults.objects.all()

    def retrieve(self, request):
        return Response(self.get_serializer(survey_defaults()).data)

    @extend_schema(request=SurveyDefaultsUpdateSerializer, responses=SurveyDefaultsSerializer)
    def update(self, request, partial=False):
        values = self.merged(survey_defaults(), SurveyDefaultsUpdateSerializer, partial=partial)
        return Response(self.get_serializer(survey_defaults_update(actor=request.user, **values)).data)

    @extend_schema(request=SurveyDefaultsUpdateSerializer, responses=SurveyDefaultsSerializer)
    def partial_update(self, request):
        return self.update(request, partial=True)


class ChiCriterionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SurveySettingsViewSet):
    """The CHI criteria (up to ten, each answered yes or no by the customer or the CSM), by position. Answers are
    kept by position, so a criterion is reworded, never removed; a change applies to what is answered from now on."""

    serializer_class = SettingsChiCriterionSerializer
    pagination_class = None

    def scoped_queryset(self, user):
        return ChiCriterion.objects.order_by("position")

    @extend_schema(request=ChiCriterionCreateSerializer, responses={201: SettingsChiCriterionSerializer})
    def create(self, request):
        """A new criterion at a free position."""
        criterion = chi_criterion_add(actor=request.user, **self.validated(ChiCriterionCreateSerializer))
        return Response(self.get_serializer(criterion).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ChiCriterionEditSerializer, responses=SettingsChiCriterionSerializer)
    def update(self, request, pk=None, partial=False):
        """Reword the criterion, or say who answers it."""
        criterion = self.changeable_object()
        values = self.merged(criterion, ChiCriterionEditSerializer, partial=partial)
        saved = chi_criterion_save(position=criterion.position, actor=request.user, **values)
        return Response(self.get_serializer(saved).data)

    @extend_schema(request=ChiCriterionEditSerializer, responses=SettingsChiCriterionSerializer)
    def partial_update(self, request, pk=None):
        """Reword the criterion, or say who answers it."""
        return self.update(request, pk=pk, partial=True)
