"""Serializers of the portfolio API.

Anything with rules has an input serializer (it validates the shape and the scope of what the caller sends)
and an output serializer (it answers); the service in between acts. Ids the caller sends are looked up in
the caller's scope, so another team's customer, subscription or person is "not found", never used.
"""

from collections.abc import Callable

from django.db import models
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import User
from accounts.selectors import users_visible_to
from core.bounds import MAX_CENTS, ApiDateField, ApiDateTimeField
from portfolio.models import (
    Activity,
    ActivityKind,
    BillingPeriod,
    ChurnOutcome,
    ChurnReason,
    ChurnRequest,
    Contact,
    Customer,
    MrrMovement,
    SaveAttempt,
    Subscription,
    SubscriptionStatus,
    Task,
)
from portfolio.selectors import contacts_visible_to, customers_changeable_by, subscriptions_visible_to
from portfolio.validators import cnpj_digits


class ModelSerializer(serializers.ModelSerializer):
    """Every model serializer here: model dates come in within core.bounds' range, like explicit ones."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: ApiDateField,
        models.DateTimeField: ApiDateTimeField,
    }


def people_assignable_by(user: User) -> QuerySet[User]:
    """People whose ids a caller may send (as owner, ISM, farmer or task owner): active people they see."""
    return users_visible_to(user).filter(is_active=True)


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key looked up in what ``selector(request.user)`` returns; anything else is "not found".

    ``queryset`` only tells the field (and the schema) which model the ids belong to: it is always empty,
    so a field used without a request finds nothing rather than everything.
    """

    default_error_messages = {"does_not_exist": _("Not found.")}

    def __init__(self, *, selector: Callable[[User], QuerySet], model: type[Model], **kwargs) -> None:
        self.selector = selector
        kwargs["queryset"] = model._default_manager.none()
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        if request is None:
            return self.queryset
        return self.selector(request.user)


def changeable_customer_field(**kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(selector=customers_changeable_by, model=Customer, **kwargs)


def person_field(**kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(selector=people_assignable_by, model=User, **kwargs)


class ExternalIdInputMixin(serializers.Serializer):
    def validate_external_id(self, value: str | None) -> str | None:
        # "" would be a real value under the unique index: a second blank id would collide with the first.
        return value or None


class CentsField(serializers.IntegerField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_CENTS)
        super().__init__(**kwargs)


# --- Customers ----------------------------------------------------------------------------------------


class CustomerSerializer(ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "cnpj",
            "segment",
            "plan_tier",
            "service_model",
            "stage",
            "owner",
            "implementation_manager",
            "farmer",
            "start_date",
            "renewal_date",
            "external_id",
            "mrr_cents",
            "currency",
            "licences",
            "last_touch_at",
        ]
        read_only_fields = fields


class CnpjInputMixin(serializers.Serializer):
    # Accepts "12.345.678/0001-95" as well as its digits; the service checks the digits.
    cnpj = serializers.CharField(max_length=32, required=False, allow_blank=True)

    def validate_cnpj(self, value: str) -> str:
        return cnpj_digits(value)


class CustomerCreateSerializer(CnpjInputMixin, ExternalIdInputMixin, ModelSerializer):
    owner = person_field(required=False, allow_null=True)
    implementation_manager = person_field(required=False, allow_null=True)
    farmer = person_field(required=False, allow_null=True)

    class Meta:
        model = Customer
        fields = [
            "name",
            "cnpj",
            "segment",
            "plan_tier",
            "service_model",
            "owner",
            "implementation_manager",
            "farmer",
            "start_date",
            "renewal_date",
            "external_id",
            "licences",
        ]


class CustomerUpdateSerializer(CnpjInputMixin, ExternalIdInputMixin, ModelSerializer):
    """What ``customer_update`` may change. Owner and stage have their own paths: reassignment, the journey."""

    farmer = person_field(required=False, allow_null=True)

    NOT_HERE = {
        "owner": _("Customers change owner through reassignment, not here."),
        "implementation_manager": _("The implementation manager cannot be changed here."),
        "stage": _("The stage moves through the journey (handoff, churn requests, UTI), not here."),
    }

    class Meta:
        model = Customer
        fields = [
            "name", "cnpj", "segment", "plan_tier", "service_model", "renewal_date", "farmer", "external_id", "licences"
        ]  # fmt: skip

    def validate(self, attrs: dict) -> dict:
        # Silently ignoring these would let a client believe a customer changed hands.
        refused = {field: [message] for field, message in self.NOT_HERE.items() if field in self.initial_data}
        if refused:
            raise serializers.ValidationError(refused)
        return attrs


# --- Contacts -----------------------------------------------------------------------------------------


class ContactSerializer(ExternalIdInputMixin, ModelSerializer):
    """A plain resource: the same fields in and out; writes still go through the contact services."""

    customer = changeable_customer_field()

    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "name",
            "email",
            "phone",
            "role",
            "language",
            "external_id",
            "opted_out_at",
            "bounced_at",
            "archived_at",
            "created_at",
        ]
        read_only_fields = ["id", "opted_out_at", "bounced_at", "archived_at", "created_at"]

    def validate_customer(self, value: Customer) -> Customer:
        if self.instance is not None and value.pk != self.instance.customer_id:
            raise serializers.ValidationError(_("A contact cannot move to another customer."))
        return value


# --- Subscriptions and the MRR ledger -----------------------------------------------------------------------


class SubscriptionSerializer(ModelSerializer):
    monthly_cents = serializers.IntegerField(read_only=True, help_text=_("What this subscription adds to MRR."))

    class Meta:
        model = Subscription
        fields = [
            "id",
            "customer",
            "product",
            "plan",
            "amount_cents",
            "currency",
            "billing_period",
            "monthly_cents",
            "seats",
            "status",
            "start_date",
            "end_date",
            "delinquent_since",
            "external_id",
            "replaces",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionCreateSerializer(ExternalIdInputMixin, ModelSerializer):
    customer = changeable_customer_field()
    amount_cents = CentsField(help_text=_("Per billing period, in cents."))
    status = serializers.ChoiceField(
        choices=[
            (SubscriptionStatus.ACTIVE, SubscriptionStatus.ACTIVE.label),
            (SubscriptionStatus.TRIAL, SubscriptionStatus.TRIAL.label),
        ],
        default=SubscriptionStatus.ACTIVE,
    )

    class Meta:
        model = Subscription
        fields = [
            "customer",
            "product",
            "plan",
            "amount_cents",
            "currency",
            "billing_period",
            "status",
            "start_date",
            "end_date",
            "external_id",
            "seats",
        ]


class SubscriptionChangeSerializer(serializers.Serializer):
    effective_date = ApiDateField()
    amount_cents = CentsField(required=False, help_text=_("New amount per billing period, in cents."))
    plan = serializers.CharField(max_length=100, required=False, allow_blank=True)
    billing_period = serializers.ChoiceField(choices=BillingPeriod.choices, required=False)

    def validate(self, attrs: dict) -> dict:
        if not {"amount_cents", "plan", "billing_period"} & attrs.keys():
            raise serializers.ValidationError(_("Say what changes: the amount, the plan or the billing period."))
        return attrs


class SubscriptionCancelSerializer(serializers.Serializer):
    end_date = ApiDateField(help_text=_("The first day the subscription no longer runs."))


class SubscriptionDelinquentSerializer(serializers.Serializer):
    since = ApiDateField(help_text=_("The day the payment became overdue."))


class MrrMovementSerializer(ModelSerializer):
    class Meta:
        model = MrrMovement
        fields = [
            "id",
            "customer",
            "month",
            "kind",
            "amount_cents",
            "mrr_start_cents",
            "mrr_end_cents",
            "owner",
            "segment",
            "plan_tier",
            "service_model",
        ]
        read_only_fields = fields


# --- Timeline -----------------------------------------------------------------------------------------

# What people record through the API; the other kinds are written by the journey's services.
API_ACTIVITY_KINDS = [ActivityKind.NOTE, ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL]


class ActivitySerializer(ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "customer", "kind", "title", "body", "author", "contact", "happened_at", "data", "external_id"]
        read_only_fields = fields


class ActivityCreateSerializer(ModelSerializer):
    customer = changeable_customer_field()
    kind = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in API_ACTIVITY_KINDS])
    happened_at = ApiDateTimeField(required=False)
    # No uniqueness check here: sending an external id again answers the entry already recorded.
    external_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_("The id in the system this comes from; sending the same id again does not duplicate it."),
    )

    contact = ScopedPrimaryKeyRelatedField(
        selector=contacts_visible_to,
        model=Contact,
        required=False,
        allow_null=True,
        help_text=_(
            "Whom the call, meeting or email was with: a touch with the contact who answered a survey "
            "as a detractor closes that loop."
        ),
    )

    class Meta:
        model = Activity
        fields = ["customer", "kind", "title", "body", "happened_at", "contact", "external_id"]

    def validate(self, attrs: dict) -> dict:
        contact = attrs.get("contact")
        if contact is not None and contact.customer_id != attrs["customer"].pk:
            raise serializers.ValidationError({"contact": _("Choose one of this customer's contacts.")})
        return attrs


# --- Tasks --------------------------------------------------------------------------------------------


class TaskSerializer(ModelSerializer):
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "customer",
            "owner",
            "title",
            "notes",
            "due_date",
            "status",
            "is_overdue",
            "origin",
            "created_by",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class TaskCreateSerializer(ModelSerializer):
    customer = changeable_customer_field()
    owner = person_field(required=False, help_text=_("Defaults to the caller."))

    class Meta:
        model = Task
        fields = ["customer", "owner", "title", "notes", "due_date"]


# --- Churn requests ---------------------------------------------------------------------------------------


class SaveAttemptSerializer(ModelSerializer):
    class Meta:
        model = SaveAttempt
        fields = ["id", "offer", "by", "made_at"]
        read_only_fields = ["id", "by", "made_at"]


class ChurnRequestSerializer(ModelSerializer):
    """Opens a churn request (the writable fields) and answers one (all of them)."""

    customer = changeable_customer_field()
    reason = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ChurnReason.objects.all(),
        help_text=_("The code of a specific churn reason, such as missing-integration."),
    )
    category = serializers.SlugRelatedField(source="reason.category", slug_field="code", read_only=True)
    save_attempts = SaveAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = ChurnRequest
        fields = [
            "id",
            "customer",
            "kind",
            "reason",
            "category",
            "detail",
            "requested_by",
            "requested_on",
            "mrr_at_risk_cents",
            "opened_by",
            "outcome",
            "resolved_at",
            "created_at",
            "save_attempts",
        ]
        read_only_fields = ["id", "mrr_at_risk_cents", "opened_by", "outcome", "resolved_at", "created_at"]


class DownsellSerializer(serializers.Serializer):
    subscription = ScopedPrimaryKeyRelatedField(selector=subscriptions_visible_to, model=Subscription)
    amount_cents = CentsField(help_text=_("The new, lower amount per billing period, in cents."))


class ChurnResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[(o.value, o.label) for o in (ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL, ChurnOutcome.CHURNED)]
    )
    effective_date = ApiDateField(required=False, help_text=_("Defaults to today."))
    downsell = DownsellSerializer(many=True, required=False)

    def validate_downsell(self, value: list[dict]) -> list[dict]:
        ids = [item["subscription"].pk for item in value]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError(_("List each subscription once."))
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs.get("downsell") and attrs["outcome"] != ChurnOutcome.DOWNSELL:
            raise serializers.ValidationError({"downsell": _("Only a downsell lowers subscriptions.")})
        return attrs
