"""The journey's Settings API (``/api/v1/settings/``): service-model policies, the churn reason taxonomy and the
success-review questions. Admins and leaders read them; admins change them, through the services the Settings
pages call (portfolio.settings_services, portfolio.settings_review_services), which check it again and record
every change in the Settings history."""

from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.access import ensure_can_change_settings
from accounts.api.base import SettingsViewSet
from portfolio import settings_milestone_services as milestone_services
from portfolio import settings_review_services as review_services
from portfolio import settings_services as services
from portfolio.api import settings_serializers as s
from portfolio.api.views import IdFilter
from portfolio.models import (
    ChurnCategory,
    ChurnReason,
    MilestoneTemplate,
    ReviewPart,
    ReviewTemplateQuestion,
    ServiceModelPolicy,
)
from portfolio.settings_milestone_selectors import milestone_templates_all
from portfolio.settings_review_selectors import answered_question_keys
from portfolio.settings_selectors import (
    churn_categories_with_reasons,
    churn_reasons_with_usage,
    policies_by_service_model,
)


class WorkspaceSettingsViewSet(SettingsViewSet):
    """Settings that apply to every team alike: admins change them (``can_change_settings``)."""

    def ensure_changer(self, user) -> None:
        ensure_can_change_settings(user)


# --- Journey policies --------------------------------------------------------------------------------------------


class JourneyPolicyViewSet(WorkspaceSettingsViewSet):
    """Each service model's journey policy (Leme's defaults until an admin saves one). A change applies to what
    starts from now on: the journeys already running keep their dates."""

    serializer_class = s.JourneyPolicySerializer
    pagination_class = None
    lookup_field = "service_model"
    lookup_value_regex = "[a-z]+"

    def scoped_queryset(self, user):
        return ServiceModelPolicy.objects.order_by("service_model")

    def _policy(self, service_model: str) -> ServiceModelPolicy:
        row = next((r for r in policies_by_service_model() if r.service_model == service_model), None)
        if row is None:
            raise Http404
        return row.policy

    def list(self, request):
        return Response(self.get_serializer([row.policy for row in policies_by_service_model()], many=True).data)

    def retrieve(self, request, service_model=None):
        return self.answer(self._policy(service_model))

    @extend_schema(request=s.JourneyPolicyUpdateSerializer, responses=s.JourneyPolicySerializer)
    def update(self, request, service_model=None, partial=False):
        policy = self._policy(service_model)
        values = self.merged(policy, s.JourneyPolicyUpdateSerializer, partial=partial)
        return self.answer(services.policy_update(service_model=service_model, actor=request.user, **values))

    @extend_schema(request=s.JourneyPolicyUpdateSerializer, responses=s.JourneyPolicySerializer)
    def partial_update(self, request, service_model=None):
        return self.update(request, service_model=service_model, partial=True)


# --- The churn reason taxonomy -----------------------------------------------------------------------------------


class ActiveFilter(filters.FilterSet):
    active = filters.BooleanFilter(help_text="Only those offered (true) or retired (false).")


class ChurnCategoryFilter(ActiveFilter):
    class Meta:
        model = ChurnCategory
        fields = ["active"]


class ChurnCategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceSettingsViewSet):
    """The churn reason categories, retired ones included. A category in use is retired (new churn requests no
    longer offer its reasons), never deleted; one without reasons can be deleted."""

    serializer_class = s.SettingsChurnCategorySerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = ChurnCategoryFilter

    def scoped_queryset(self, user):
        return churn_categories_with_reasons()

    def refreshed(self, category: ChurnCategory) -> ChurnCategory:
        return churn_categories_with_reasons().get(pk=category.pk)

    @extend_schema(request=s.ChurnCategoryWriteSerializer, responses={201: s.SettingsChurnCategorySerializer})
    def create(self, request):
        category = services.churn_category_create(actor=request.user, **self.validated(s.ChurnCategoryWriteSerializer))
        return self.answer(self.refreshed(category), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ChurnCategoryWriteSerializer, responses=s.SettingsChurnCategorySerializer)
    def update(self, request, pk=None, partial=False):
        """Rename the category."""
        category = self.changeable_object()
        names = self.merged(category, s.ChurnCategoryWriteSerializer, partial=partial)
        return self.answer(
            self.refreshed(services.churn_category_rename(category=category, actor=request.user, **names))
        )

    @extend_schema(request=s.ChurnCategoryWriteSerializer, responses=s.SettingsChurnCategorySerializer)
    def partial_update(self, request, pk=None):
        """Rename the category."""
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        """Delete a category that has no reasons; one with reasons is retired instead (400)."""
        services.churn_category_delete(category=self.changeable_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.SettingsChurnCategorySerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """New churn requests no longer offer the category's reasons; the requests that name them keep them."""
        category = services.churn_category_retire(category=self.changeable_object(), actor=request.user)
        return self.answer(self.refreshed(category))

    @extend_schema(request=None, responses=s.SettingsChurnCategorySerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """New churn requests offer the category's reasons again (those retired one by one stay retired)."""
        category = services.churn_category_restore(category=self.changeable_object(), actor=request.user)
        return self.answer(self.refreshed(category))


class ChurnReasonFilter(ActiveFilter):
    category = IdFilter(field_name="category_id")

    class Meta:
        model = ChurnReason
        fields = ["category", "active"]


class ChurnReasonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceSettingsViewSet):
    """The churn reasons, retired ones included, each with how many churn requests name it. A reason in use is
    retired, never deleted; one no request ever named can be deleted."""

    serializer_class = s.SettingsChurnReasonSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = ChurnReasonFilter

    def scoped_queryset(self, user):
        return churn_reasons_with_usage().order_by("category__name_pt", "name_pt", "pk")

    def refreshed(self, reason: ChurnReason) -> ChurnReason:
        return churn_reasons_with_usage().get(pk=reason.pk)

    @extend_schema(request=s.ChurnReasonCreateSerializer, responses={201: s.SettingsChurnReasonSerializer})
    def create(self, request):
        reason = services.churn_reason_create(actor=request.user, **self.validated(s.ChurnReasonCreateSerializer))
        return self.answer(self.refreshed(reason), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ChurnReasonRenameSerializer, responses=s.SettingsChurnReasonSerializer)
    def update(self, request, pk=None, partial=False):
        """Rename the reason, or say whether the CSM must explain it."""
        reason = self.changeable_object()
        values = self.merged(reason, s.ChurnReasonRenameSerializer, partial=partial)
        return self.answer(self.refreshed(services.churn_reason_rename(reason=reason, actor=request.user, **values)))

    @extend_schema(request=s.ChurnReasonRenameSerializer, responses=s.SettingsChurnReasonSerializer)
    def partial_update(self, request, pk=None):
        """Rename the reason, or say whether the CSM must explain it."""
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        """Delete a reason no churn request ever named; one in use is retired instead (400)."""
        services.churn_reason_delete(reason=self.changeable_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.SettingsChurnReasonSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """New churn requests no longer offer the reason; the requests that name it keep it, and the metrics."""
        reason = services.churn_reason_retire(reason=self.changeable_object(), actor=request.user)
        return self.answer(self.refreshed(reason))

    @extend_schema(request=None, responses=s.SettingsChurnReasonSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """New churn requests offer the reason again."""
        reason = services.churn_reason_restore(reason=self.changeable_object(), actor=request.user)
        return self.answer(self.refreshed(reason))


# --- Success-review questions --------------------------------------------------------------------------------------


class ReviewQuestionFilter(ActiveFilter):
    part = filters.ChoiceFilter(choices=ReviewPart.choices)

    class Meta:
        model = ReviewTemplateQuestion
        fields = ["part", "active"]


class ReviewQuestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceSettingsViewSet):
    """The success-review template's questions, per part and in order, retired ones included. A change applies to
    the reviews held from now on; a question a held review answered is retired, never deleted."""

    serializer_class = s.SettingsReviewQuestionSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = ReviewQuestionFilter

    def scoped_queryset(self, user):
        return ReviewTemplateQuestion.objects.order_by("part", "position", "pk")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request is not None and not getattr(self, "swagger_fake_view", False):
            context["answered"] = answered_question_keys()
        return context

    def refreshed(self, question: ReviewTemplateQuestion) -> ReviewTemplateQuestion:
        return ReviewTemplateQuestion.objects.get(pk=question.pk)

    @extend_schema(request=s.ReviewQuestionCreateSerializer, responses={201: s.SettingsReviewQuestionSerializer})
    def create(self, request):
        """A new question at the end of its part."""
        data = self.validated(s.ReviewQuestionCreateSerializer)
        question = review_services.review_question_add(actor=request.user, **data)
        return self.answer(question, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReviewQuestionEditSerializer, responses=s.SettingsReviewQuestionSerializer)
    def update(self, request, pk=None, partial=False):
        """New wording: the reviews already held keep the wording they were asked."""
        question = self.changeable_object()
        texts = self.merged(question, s.ReviewQuestionEditSerializer, partial=partial)
        return self.answer(review_services.review_question_edit(question=question, actor=request.user, **texts))

    @extend_schema(request=s.ReviewQuestionEditSerializer, responses=s.SettingsReviewQuestionSerializer)
    def partial_update(self, request, pk=None):
        """New wording: the reviews already held keep the wording they were asked."""
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        """Delete a question no held review answered; one already answered is retired instead (400)."""
        review_services.review_question_delete(question=self.changeable_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.ReviewQuestionMoveSerializer, responses=s.SettingsReviewQuestionSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Swap the question with the one before (up) or after (down) it in its part; at an end, nothing moves."""
        question = self.changeable_object()
        up = self.validated(s.ReviewQuestionMoveSerializer)["direction"] == "up"
        review_services.review_question_move(question=question, up=up, actor=request.user)
        return self.answer(self.refreshed(question))

    @extend_schema(request=None, responses=s.SettingsReviewQuestionSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Reviews held from now on no longer ask it; each part keeps at least one question."""
        question = review_services.review_question_retire(question=self.changeable_object(), actor=request.user)
        return self.answer(question)

    @extend_schema(request=None, responses=s.SettingsReviewQuestionSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Reviews held from now on ask it again, where it stood in its part."""
        question = review_services.review_question_restore(question=self.changeable_object(), actor=request.user)
        return self.answer(question)


# --- Onboarding milestone templates ------------------------------------------------------------------------------


class MilestoneTemplateFilter(filters.FilterSet):
    class Meta:
        model = MilestoneTemplate
        fields = ["service_model", "active"]


class MilestoneTemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceSettingsViewSet):
    """The onboarding milestones each service model's new customers get, as on the Settings page: admins and
    leaders read them, admins add, rename, move, retire and restore them (the same services, recorded in the
    settings history). Customers already in onboarding keep their milestones; nothing is ever deleted."""

    serializer_class = s.MilestoneTemplateSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = MilestoneTemplateFilter

    def scoped_queryset(self, user):
        return milestone_templates_all()

    def refreshed(self, template: MilestoneTemplate) -> MilestoneTemplate:
        return self.get_queryset().get(pk=template.pk)

    @extend_schema(request=s.MilestoneTemplateCreateSerializer, responses={201: s.MilestoneTemplateSerializer})
    def create(self, request):
        """A new milestone at the end of its service model's onboarding."""
        data = self.validated(s.MilestoneTemplateCreateSerializer)
        template = milestone_services.milestone_template_add(actor=request.user, **data)
        return self.answer(self.refreshed(template), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.MilestoneTemplateNamesSerializer, responses=s.MilestoneTemplateSerializer)
    def update(self, request, pk=None, partial=False):
        """New names: the milestones customers already got keep theirs."""
        template = self.changeable_object()
        names = self.merged(template, s.MilestoneTemplateNamesSerializer, partial=partial)
        template = milestone_services.milestone_template_edit(template=template, actor=request.user, **names)
        return self.answer(self.refreshed(template))

    @extend_schema(request=s.MilestoneTemplateNamesSerializer, responses=s.MilestoneTemplateSerializer)
    def partial_update(self, request, pk=None):
        """New names: the milestones customers already got keep theirs."""
        return self.update(request, pk=pk, partial=True)

    @extend_schema(request=s.MilestoneTemplateMoveSerializer, responses=s.MilestoneTemplateSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """One place up or down in its service model's onboarding (at an end, nothing changes)."""
        template = self.changeable_object()
        up = self.validated(s.MilestoneTemplateMoveSerializer)["direction"] == "up"
        milestone_services.milestone_template_move(template=template, up=up, actor=request.user)
        return self.answer(self.refreshed(template))

    @extend_schema(request=None, responses=s.MilestoneTemplateSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Customers who enter onboarding from now on do not get it; first value and first success stay."""
        template = self.changeable_object()
        milestone_services.milestone_template_retire(template=template, actor=request.user)
        return self.answer(self.refreshed(template))

    @extend_schema(request=None, responses=s.MilestoneTemplateSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Customers who enter onboarding from now on get it again."""
        template = self.changeable_object()
        milestone_services.milestone_template_restore(template=template, actor=request.user)
        return self.answer(self.refreshed(template))
