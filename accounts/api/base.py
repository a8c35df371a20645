"""The base every API viewset of customer-facing data inherits: its queryset comes from the door."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.access import can_read_settings, can_write
from accounts.api.permissions import TokenScopeAllows


class WritersOnly(permissions.BasePermission):
    """Viewers read; everyone else may also write (within what the door lets them see)."""

    message = "Your role can read but not change data."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or can_write(request.user)


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


# --- Errors ---------------------------------------------------------------------------------------------


def api_validation_error(
    exc: DjangoValidationError, *, rename: dict[str, str] | None = None
) -> exceptions.ValidationError:
    """A service's ValidationError as DRF's: a dict becomes field errors (``__all__`` the non-field ones),
    a plain message becomes ``non_field_errors``. ``detail`` stays free for fields named so (a churn
    request's detail). ``rename`` maps a service's argument names to the API's field names."""
    detail = get_error_detail(exc)
    if isinstance(detail, list):
        return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: detail})
    rename = {NON_FIELD_ERRORS: api_settings.NON_FIELD_ERRORS_KEY, **(rename or {})}
    return exceptions.ValidationError({rename.get(field, field): errors for field, errors in detail.items()})


class ServiceErrorsMixin:
    """Answers what services refuse as 400 with field errors, and what they forbid as 403: never a 500."""

    service_error_fields: dict[str, str] = {}

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = api_validation_error(exc, rename=self.service_error_fields)
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)


# --- The Settings ------------------------------------------------------------------------------------------------


class SettingsReaders(permissions.BasePermission):
    """The Settings are read by admins and leaders (``accounts.access.can_read_settings``); anyone else is refused
    (403) before anything is read."""

    message = _("Only admins and leaders read the workspace's settings.")

    def has_permission(self, request, view) -> bool:
        return can_read_settings(request.user)


class SettingsViewSet(ServiceErrorsMixin, ScopedViewSetMixin, viewsets.GenericViewSet):
    """The base of the Settings endpoints (``/api/v1/settings/``): admins and leaders read, and every change goes
    through the service the Settings page calls, which checks who may change it and records it in the history.

    ``ensure_changer`` (the access function the service starts with) refuses a leader before the request's body is
    read, so a refused change answers 403 whatever was sent; on an object, after it was looked up, so what the
    reader may not see stays a 404."""

    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows, SettingsReaders]
    filter_backends: list = []

    def ensure_changer(self, user) -> None:
        raise NotImplementedError(f"{type(self).__name__} must say who changes it")

    def validated(self, serializer_class, **kwargs) -> dict:
        self.ensure_changer(self.request.user)
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def changeable_object(self):
        instance = self.get_object()
        self.ensure_changer(self.request.user)
        return instance

    def merged(self, instance, serializer_class, *, partial: bool) -> dict:
        """What was sent, over the object's current values for what a PATCH leaves out."""
        data = self.validated(serializer_class, partial=partial)
        return {name: data.get(name, getattr(instance, name)) for name in serializer_class().fields}

    def answer(self, instance, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=status_code)
