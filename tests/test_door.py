"""Structural checks that nobody can forget the door: every API viewset is scoped, every page of
customer data needs a login."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.api.base import ScopedViewSetMixin

PUBLIC = {
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:invitation_accept",
    "healthz",
    "set_language",
    "accounts:language_set",
}


def walk(patterns, prefix="", route=""):
    """Yield (namespace prefix, full route, pattern) for every URL."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{pattern.namespace}:" if pattern.namespace else prefix
            yield from walk(pattern.url_patterns, namespace, route + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix, route + str(pattern.pattern), pattern


def api_viewsets():
    for _, _route, pattern in walk(get_resolver().url_patterns):
        cls = getattr(pattern.callback, "cls", None)
        if (
            cls is not None
            and getattr(pattern.callback, "actions", None)
            and "schema" not in pattern.pattern.describe()
        ):
            yield cls


def test_every_api_viewset_takes_its_queryset_from_the_door():
    viewsets = set(api_viewsets())
    assert len(viewsets) >= 2
    unscoped = [cls.__name__ for cls in viewsets if not issubclass(cls, ScopedViewSetMixin)]
    assert unscoped == []
    with_raw_queryset = [cls.__name__ for cls in viewsets if getattr(cls, "queryset", None) is not None]
    assert with_raw_queryset == []


@pytest.mark.django_db
def test_every_page_outside_the_public_ones_needs_a_login(client):
    checked = 0
    for namespace, route, pattern in walk(get_resolver().url_patterns):
        name = f"{namespace}{pattern.name}" if pattern.name else None
        if (
            name in PUBLIC
            or route.startswith(("admin/", "api/", "^admin"))
            or "static" in route
            or "<str:token>" in route
        ):
            continue
        url = "/" + route.replace("<int:pk>", "1").replace("<int:task_pk>", "1").replace("<int:milestone_pk>", "1")
        for key in ("review_pk", "churn_pk", "stay_pk"):
            url = url.replace(f"<int:{key}>", "1")
        if "<" in url:
            continue
        response = client.get(url)
        assert response.status_code in (302, 405), f"{url} answers {response.status_code} without login"
        if response.status_code == 302:
            assert response["Location"].startswith("/login/"), url
        checked += 1
    assert checked >= 15
