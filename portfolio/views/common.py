"""What every portfolio page's view shares."""

from dataclasses import fields

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.access import can_write


def require_write(request: HttpRequest) -> None:
    if not can_write(request.user):
        raise PermissionDenied


def page_context(page: object, **extra) -> dict:
    """A page selector's dataclass as its template's context: one name per field (not ``asdict``, which
    would copy every row), plus ``extra`` (the forms, the query string)."""
    return {**{f.name: getattr(page, f.name) for f in fields(page)}, **extra}
