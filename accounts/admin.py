from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import ApiToken, Invitation, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["full_name"]
    list_display = ["email", "full_name", "role", "team", "is_active", "is_staff"]
    list_filter = ["role", "team", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    list_select_related = ["team"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "role", "team", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "role", "team", "password1", "password2"]}),
    ]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "leader", "created_at"]
    search_fields = ["name"]
    list_select_related = ["leader"]
    raw_id_fields = ["leader"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "role", "team", "invited_by", "created_at", "sent_at", "accepted_at", "revoked_at"]
    list_filter = ["role", "team"]
    search_fields = ["email", "full_name"]
    list_select_related = ["team", "invited_by"]
    readonly_fields = ["sent_at", "accepted_at", "revoked_at", "user", "invited_by", "created_at"]
    actions = ["resend"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.invitation_create(
            email=obj.email,
            role=obj.role,
            team=obj.team,
            full_name=obj.full_name,
            language=obj.language,
            invited_by=request.user,
        )
        obj.pk = created.pk

    @admin.action(description=_("Send the invitation again"))
    def resend(self, request, queryset):
        for invitation in queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True):
            services.invitation_create(
                email=invitation.email,
                role=invitation.role,
                team=invitation.team,
                full_name=invitation.full_name,
                language=invitation.language,
                invited_by=request.user,
            )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created on the profile and Integrations pages (the key is shown there once); here they are
    only read. Revoke from those pages, or by changing the person's password."""

    list_display = ["name", "prefix", "user", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix", "user__email"]
    list_select_related = ["user"]
    fields = ["name", "prefix", "user", "scope", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False
