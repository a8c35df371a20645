"""The Django admin for surveys: the CHI criteria are configured here; campaigns are read here and managed on
the Surveys pages (through surveys.services)."""

from django.contrib import admin

from surveys.models import Campaign, ChiCriterion


@admin.register(ChiCriterion)
class ChiCriterionAdmin(admin.ModelAdmin):
    """The ten Customer Happiness Index criteria, each answered yes (1) or no (0)."""

    list_display = ["position", "text_pt", "text_en", "answered_by"]
    list_editable = ["text_pt", "text_en", "answered_by"]
    list_display_links = ["position"]
    ordering = ["position"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    """Read-only: a campaign's rules (audience, fatigue, status) change through the services, not here."""

    list_display = ["name", "kind", "status", "mode", "trigger", "created_at", "closed_at"]
    list_filter = ["kind", "status", "mode"]
    search_fields = ["name"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
