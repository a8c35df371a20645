"""The Django admin is for superusers only: staff who are not superusers are sent to its login page."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class LemeAdminSite(admin.AdminSite):
    site_header = _("Leme administration")
    site_title = _("Leme administration")
    index_title = _("Administration")

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)
