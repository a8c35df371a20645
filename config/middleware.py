"""Middleware that guards every request before any app sees it.

* ``HealthCheckMiddleware`` answers the load balancer's ``/healthz`` first, so the probe never reaches the
  session, the language or the login (no cookie set, no database query for a user).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.health import HEALTHZ_PATH, healthz


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTHZ_PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
