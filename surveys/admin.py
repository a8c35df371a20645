"""The Django admin for surveys: the CHI criteria are configured here; campaigns and the imported employees are
read here and managed on the Surveys pages (through surveys.services and the employees import)."""

from django.contrib import admin

from portfolio.admin import ReadOnlyAdmin
from surveys.models import Campaign, ChiCriterion, EmployeeRecipient


@admin.register(ChiCriterion)
class ChiCriterionAdmin(admin.ModelAdmin):
    """The ten Customer Happiness Index criteria, each answered yes (1) or no (0)."""

    list_display = ["position", "text_pt", "text_en", "answered_by"]
    list_editable = ["text_pt", "text_en", "answered_by"]
    list_display_links = ["position"]
    ordering = ["position"]


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    """Read-only: a campaign's rules (audience, fatigue, status) change through the services, not here."""

    list_display = ["name", "kind", "status", "mode", "trigger", "created_at", "closed_at"]
    list_filter = ["kind", "status", "mode"]
    search_fields = ["name"]


@admin.register(EmployeeRecipient)
class EmployeeRecipientAdmin(ReadOnlyAdmin):
    """Read-only: people join, change team and leave the list through the CSV import (surveys.employees), and
    deleting one would delete their answers with their deliveries."""

    list_display = ["email", "name", "department", "team", "language", "active", "created_at"]
    list_filter = ["team", "active", "language"]
    list_select_related = ["team"]
    search_fields = ["email", "name", "department"]
