"""The base every API viewset of customer-facing data inherits: its queryset comes from the door."""

from rest_framework import permissions, viewsets

from accounts.access import can_change_settings, can_read_settings, can_write
from accounts.api.permissions import TokenScopeAllows


class WritersOnly(permissions.BasePermission):
    """Viewers read; everyone else may also write (within what the door lets them see)."""

    message = "Your role can read but not change data."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or can_write(request.user)


class SettingsReadersAdminsChange(permissions.BasePermission):
    """The workspace's settings: admins and leaders read them (can_read_settings), admins change them
    (can_change_settings), as on the Settings pages."""

    message = "Only admins change the workspace's settings; admins and leaders read them."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return can_read_settings(request.user)
        return can_change_settings(request.user)


class ScopedViewSetMixin:
    """Subclasses define ``scoped_queryset(user)`` using an app selector built on accounts.access.

    There is no ``queryset`` attribute to fall back to: a viewset that forgets the scope fails loudly.
    Objects outside the scope are 404, as DRF answers for a row missing from ``get_queryset()``.
    """

    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows, WritersOnly]

    def scoped_queryset(self, user):
        raise NotImplementedError(f"{type(self).__name__} must define scoped_queryset(user)")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation inspects the model without a user; it never sees rows.
            return self.get_serializer_class().Meta.model.objects.none()
        return self.scoped_queryset(self.request.user)


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass
