"""The portfolio API: customers, contacts, subscriptions and the MRR ledger, the timeline, tasks and churn
requests. Every viewset reads through a portfolio selector (the door) and writes through portfolio.services."""

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from accounts.api.base import ScopedReadOnlyViewSet, ServiceErrorsMixin
from portfolio import ledger, services
from portfolio.api import serializers as s
from portfolio.models import (
    Activity,
    ChurnRequest,
    Contact,
    Customer,
    MovementKind,
    MrrMovement,
    SaveAttempt,
    Subscription,
    Task,
    TaskStatus,
    activity_kinds,
)
from portfolio.selectors import (
    activities_visible_to,
    churn_requests_visible_to,
    contacts_visible_to,
    customers_visible_to,
    mrr_movements_visible_to,
    subscriptions_visible_to,
    tasks_visible_to,
)

# --- Filters --------------------------------------------------------------------------------------------


class StableOrderingFilter(OrderingFilter):
    """``?ordering=`` with the primary key as the last tie-breaker, so pages never repeat or skip rows."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not {"pk", "-pk", "id", "-id"} & set(ordering):
            return [*ordering, "pk"]
        return ordering


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """An id compared without loading the row it names: no query, and nothing learnt about other teams."""

    field_class = forms.IntegerField


class CustomerFilter(filters.FilterSet):
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Customer
        fields = ["stage", "service_model", "segment", "owner", "external_id"]


class ContactFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    # Archived contacts (they left the customer) are left out of the list unless asked for: ?archived=true
    # lists them alone, ?archived=false (the default) the others.
    archived = filters.BooleanFilter(
        field_name="archived_at", lookup_expr="isnull", exclude=True, label=_("Archived (left the customer)")
    )

    class Meta:
        model = Contact
        fields = ["customer", "role", "external_id"]


class SubscriptionFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")

    class Meta:
        model = Subscription
        fields = ["customer", "status", "billing_period", "external_id"]


class MrrMovementFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    month = filters.DateFilter(
        method="filter_month",
        input_formats=["%Y-%m-%d", "%Y-%m"],
        help_text=_("The month, as 2025-03 or any of its days."),
    )
    kind = filters.ChoiceFilter(choices=MovementKind.choices)

    class Meta:
        model = MrrMovement
        fields = ["customer", "month", "kind"]

    def filter_month(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(month=ledger.month_start(value))


class ActivityFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    kind = filters.ChoiceFilter(choices=activity_kinds)

    class Meta:
        model = Activity
        fields = ["customer", "kind"]


class TaskFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    owner = IdFilter(field_name="owner_id")
    status = filters.ChoiceFilter(choices=TaskStatus.choices)
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte", help_text=_("Due on or after."))
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte", help_text=_("Due on or before."))

    class Meta:
        model = Task
        fields = ["customer", "owner", "status", "due_after", "due_before"]


class ChurnRequestFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")

    class Meta:
        model = ChurnRequest
        fields = ["customer", "kind", "outcome"]


# --- The base -------------------------------------------------------------------------------------------


class PortfolioViewSet(ServiceErrorsMixin, ScopedReadOnlyViewSet):
    """List and retrieve through the door; subclasses add writes that call services."""

    filter_backends = [filters.DjangoFilterBackend, StableOrderingFilter]

    def validated(self, serializer_class: type[Serializer], **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def answer(self, instance, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=status_code)


# --- Customers ------------------------------------------------------------------------------------------


class CustomerViewSet(PortfolioViewSet):
    """Customers the caller may see. Owner changes go through reassignment and stage changes through the
    journey; this endpoint creates customers and changes their descriptive fields."""

    serializer_class = s.CustomerSerializer
    filterset_class = CustomerFilter
    filter_backends = [*PortfolioViewSet.filter_backends, SearchFilter]
    search_fields = ["name"]
    ordering_fields = ["name", "mrr_cents", "renewal_date"]

    def scoped_queryset(self, user):
        return customers_visible_to(user).order_by("name", "pk")

    @extend_schema(request=s.CustomerCreateSerializer, responses={201: s.CustomerSerializer})
    def create(self, request):
        customer = services.customer_create(actor=request.user, **self.validated(s.CustomerCreateSerializer))
        return self.answer(customer, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.CustomerUpdateSerializer, responses=s.CustomerSerializer)
    def partial_update(self, request, pk=None):
        customer = self.get_object()
        fields = self.validated(s.CustomerUpdateSerializer, instance=customer, partial=True)
        return self.answer(services.customer_update(customer=customer, actor=request.user, **fields))


# --- Contacts -------------------------------------------------------------------------------------------


class ContactViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, PortfolioViewSet):
    """Contacts of the customers the caller may see. The list leaves archived contacts out unless
    ``?archived=true``; a contact is archived and brought back by its actions, never deleted."""

    serializer_class = s.ContactSerializer
    filterset_class = ContactFilter
    filter_backends = [*PortfolioViewSet.filter_backends, SearchFilter]
    search_fields = ["name", "email"]
    ordering_fields = ["name", "created_at"]

    def scoped_queryset(self, user):
        return contacts_visible_to(user).order_by("name", "pk")

    def perform_create(self, serializer):
        serializer.instance = services.contact_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k != "customer"}
        serializer.instance = services.contact_update(contact=serializer.instance, actor=self.request.user, **fields)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and "archived" not in self.request.query_params:
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset

    @extend_schema(request=None, responses=s.ContactSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """The contact left the customer: out of the customer's page and the surveys' audiences."""
        contact = services.contact_archive(contact=self.get_object(), actor=request.user)
        return self.answer(contact)

    @extend_schema(request=None, responses=s.ContactSerializer)
    @action(detail=True, methods=["post"])
    def unarchive(self, request, pk=None):
        """An archived contact is back: on the customer's page and in the surveys' audiences again."""
        contact = services.contact_unarchive(contact=self.get_object(), actor=request.user)
        return self.answer(contact)


# --- Subscriptions and the MRR ledger -----------------------------------------------------------------------


class SubscriptionViewSet(PortfolioViewSet):
    """Subscriptions drive MRR and its ledger. Their history is immutable: no PUT, PATCH or DELETE; a change
    of terms ends the row and starts a new one (``change``), and ``cancel`` ends it."""

    serializer_class = s.SubscriptionSerializer
    filterset_class = SubscriptionFilter
    ordering_fields = ["start_date", "amount_cents"]

    def scoped_queryset(self, user):
        return subscriptions_visible_to(user).select_related("customer").order_by("start_date", "pk")

    @extend_schema(request=s.SubscriptionCreateSerializer, responses={201: s.SubscriptionSerializer})
    def create(self, request):
        subscription = services.subscription_create(
            actor=request.user, **self.validated(s.SubscriptionCreateSerializer)
        )
        return self.answer(subscription, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.SubscriptionChangeSerializer, responses=s.SubscriptionSerializer)
    @action(detail=True, methods=["post"])
    def change(self, request, pk=None):
        """Change the amount, plan or billing period from a date; answers the new row."""
        subscription = self.get_object()
        fields = self.validated(s.SubscriptionChangeSerializer)
        return self.answer(services.subscription_change(subscription=subscription, actor=request.user, **fields))

    @extend_schema(request=s.SubscriptionCancelSerializer, responses=s.SubscriptionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        subscription = self.get_object()
        fields = self.validated(s.SubscriptionCancelSerializer)
        services.subscription_cancel(subscription=subscription, actor=request.user, **fields)
        return self.answer(subscription)

    @extend_schema(request=s.SubscriptionDelinquentSerializer, responses=s.SubscriptionSerializer)
    @action(detail=True, methods=["post"])
    def delinquent(self, request, pk=None):
        """Mark the payment overdue: it still counts in MRR, and its CSM gets a follow-up task."""
        subscription = self.get_object()
        fields = self.validated(s.SubscriptionDelinquentSerializer)
        services.subscription_mark_delinquent(subscription=subscription, actor=request.user, **fields)
        return self.answer(subscription)

    @extend_schema(request=None, responses=s.SubscriptionSerializer)
    @action(detail=True, methods=["post"])
    def paid(self, request, pk=None):
        """The overdue payment arrived."""
        subscription = self.get_object()
        services.subscription_mark_paid(subscription=subscription, actor=request.user)
        return self.answer(subscription)


class MrrMovementViewSet(PortfolioViewSet):
    """The MRR ledger: one row per customer and month whose month-end MRR changed."""

    serializer_class = s.MrrMovementSerializer
    filterset_class = MrrMovementFilter
    ordering_fields = ["month", "amount_cents"]

    def scoped_queryset(self, user):
        return mrr_movements_visible_to(user).order_by("month", "pk")


# --- Timeline -------------------------------------------------------------------------------------------


class ActivityViewSet(PortfolioViewSet):
    """The customers' timelines. People record notes, calls, meetings and emails; the rest is written by
    the journey. An entry sent again with the same ``external_id`` is answered, not duplicated."""

    serializer_class = s.ActivitySerializer
    filterset_class = ActivityFilter
    ordering_fields = ["happened_at"]

    def scoped_queryset(self, user):
        return activities_visible_to(user).order_by("-happened_at", "-pk")

    @extend_schema(
        request=s.ActivityCreateSerializer,
        responses={201: s.ActivitySerializer, 200: s.ActivitySerializer},
        description="Answers 200 with the entry already recorded when its external_id was sent before.",
    )
    def create(self, request):
        fields = self.validated(s.ActivityCreateSerializer)
        external_id = fields.pop("external_id", None) or None
        if external_id:
            existing = self.get_queryset().filter(external_id=external_id).first()
            if existing is not None and existing.customer_id == fields["customer"].pk:
                return self.answer(existing)
        try:
            # activity_log is not idempotent by itself: a repeated or concurrent import hits the unique id.
            with transaction.atomic():
                activity = services.activity_log(author=request.user, external_id=external_id, **fields)
        except IntegrityError as exc:
            raise exceptions.ValidationError(
                {"external_id": [_("Another timeline entry already uses this external id.")]}
            ) from exc
        return self.answer(activity, status_code=status.HTTP_201_CREATED)


# --- Tasks ----------------------------------------------------------------------------------------------


class TaskViewSet(PortfolioViewSet):
    """Tasks about the customers the caller may see. A new task belongs to the caller unless they name
    someone they oversee."""

    serializer_class = s.TaskSerializer
    filterset_class = TaskFilter
    ordering_fields = ["due_date", "created_at"]

    def scoped_queryset(self, user):
        return tasks_visible_to(user).order_by("due_date", "pk")

    @extend_schema(request=s.TaskCreateSerializer, responses={201: s.TaskSerializer})
    def create(self, request):
        fields = self.validated(s.TaskCreateSerializer)
        fields.setdefault("owner", request.user)
        task = services.task_create(created_by=request.user, **fields)
        return self.answer(task, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.TaskSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self.answer(services.task_complete(task=self.get_object(), actor=request.user))


# --- Churn requests -------------------------------------------------------------------------------------


class ChurnRequestViewSet(PortfolioViewSet):
    """Requests to cancel: opened with a structured, concrete reason; worked with save attempts; resolved
    as recovered (UTI), recovered with a downsell, or churned."""

    serializer_class = s.ChurnRequestSerializer
    filterset_class = ChurnRequestFilter
    ordering_fields = ["created_at", "requested_on", "mrr_at_risk_cents"]
    service_error_fields = {"amount": "downsell"}

    def scoped_queryset(self, user):
        return (
            churn_requests_visible_to(user)
            .select_related("reason__category")
            .prefetch_related(Prefetch("save_attempts", queryset=SaveAttempt.objects.order_by("made_at", "pk")))
            .order_by("-created_at", "-pk")
        )

    @extend_schema(responses={201: s.ChurnRequestSerializer})
    def create(self, request):
        opened = services.churn_request_open(actor=request.user, **self.validated(s.ChurnRequestSerializer))
        return self.answer(self.get_queryset().get(pk=opened.pk), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.SaveAttemptSerializer, responses={201: s.SaveAttemptSerializer})
    @action(detail=True, methods=["post"], url_path="save-attempts")
    def save_attempts(self, request, pk=None):
        """Record what was offered to keep the customer."""
        churn_request = self.get_object()
        fields = self.validated(s.SaveAttemptSerializer)
        attempt = services.save_attempt_add(churn_request=churn_request, actor=request.user, **fields)
        return Response(s.SaveAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ChurnResolveSerializer, responses=s.ChurnRequestSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        churn_request = self.get_object()
        fields = self.validated(s.ChurnResolveSerializer)
        downsell = {item["subscription"]: item["amount_cents"] for item in fields.pop("downsell", [])}
        services.churn_request_resolve(churn_request=churn_request, actor=request.user, downsell=downsell, **fields)
        return self.answer(self.get_queryset().get(pk=churn_request.pk))
