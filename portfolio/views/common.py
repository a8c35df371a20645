"""What every portfolio page's view shares."""

from dataclasses import fields

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.access import can_write


def require_write(request: HttpRequest) -> None:
    if not can_write(request.user):
        raise PermissionDenied


def page_context(page: object, **extra) -> dict:
    """A page selector's dataclass as its template's context: one name per field (not ``asdict``, which
    would copy every row), plus ``extra`` (the forms, the query string)."""
    return {**{f.name: getattr(page, f.name) for f in fields(page)}, **extra}


def next_or(request: HttpRequest, fallback: str) -> str:
    """Where to go after a POST: the form's ``next`` when it stays on Leme, else ``fallback`` (never an
    address another site put in the form)."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
