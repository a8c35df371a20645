"""The Django admin for the portfolio's reference data: the churn-reason taxonomy and the journey's
policies per service model. Customers, subscriptions and the ledger are shown read-only: they change
only through portfolio.services, where the journey's rules live."""

from django.contrib import admin

from portfolio.models import ChurnCategory, ChurnReason, Customer, MrrMovement, ServiceModelPolicy, Subscription, Tag


class ChurnReasonInline(admin.TabularInline):
    model = ChurnReason
    fields = ["code", "name_pt", "name_en", "needs_detail", "active"]
    extra = 1


@admin.register(ChurnCategory)
class ChurnCategoryAdmin(admin.ModelAdmin):
    list_display = ["name_pt", "name_en", "code", "active"]
    list_editable = ["active"]
    search_fields = ["name_pt", "name_en", "code"]
    prepopulated_fields = {"code": ["name_en"]}
    inlines = [ChurnReasonInline]


@admin.register(ServiceModelPolicy)
class ServiceModelPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "service_model",
        "first_value_days",
        "first_success_days",
        "review_every_months",
        "handoff_by_meeting",
        "uti_days",
    ]
    list_editable = ["first_value_days", "first_success_days", "review_every_months", "handoff_by_meeting", "uti_days"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to staff for support, never edited here: the services keep the timeline and ledger right."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["name", "stage", "service_model", "segment", "owner", "mrr_cents", "external_id"]
    list_filter = ["stage", "service_model", "segment"]
    search_fields = ["name", "cnpj", "external_id"]
    list_select_related = ["owner"]
    show_full_result_count = False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["customer", "product", "plan", "amount_cents", "billing_period", "status", "start_date", "end_date"]
    list_filter = ["status", "billing_period"]
    search_fields = ["customer__name", "external_id", "product"]
    list_select_related = ["customer"]
    show_full_result_count = False


@admin.register(MrrMovement)
class MrrMovementAdmin(ReadOnlyAdmin):
    list_display = ["customer", "month", "kind", "amount_cents", "mrr_start_cents", "mrr_end_cents"]
    list_filter = ["kind", "month"]
    list_select_related = ["customer"]
    show_full_result_count = False
