"""API permissions used as REST_FRAMEWORK defaults: this module must not import DRF's views (the settings
load it while APIView is being defined)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from accounts.access import token_allows
from accounts.models import ApiToken


class TokenScopeAllows(permissions.BasePermission):
    """The scope of the caller's token allows this endpoint (``accounts.access.token_allows``): an integration
    token posts usage events and nothing else. In REST_FRAMEWORK's default permissions, and in every view that
    sets its own ``permission_classes`` (tests/accounts/test_api_tokens.py walks every route)."""

    message = _("This token may only send usage events.")

    def has_permission(self, request, view) -> bool:
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return token_allows(token.scope if token else None, getattr(view, "token_scope", None))
