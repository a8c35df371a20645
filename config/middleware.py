"""Middleware that guards every request before any app sees it.

* ``HealthCheckMiddleware`` answers the load balancer's ``/healthz`` first, so the probe never reaches the
  session, the language or the login (no cookie set, no database query for a user).
* ``RejectNulMiddleware`` refuses a NUL character anywhere in the path, the query string or a form's fields
  with a 400: PostgreSQL cannot store one in text, so it would otherwise be a 500 somewhere deeper, and no
  person ever types it. JSON bodies are the API's serializers' to check (their text fields refuse NUL).
* ``ApiThrottleMiddleware`` counts the API requests that end unauthenticated (no credentials, or wrong ones)
  per client address, and refuses that address with 429 once over ``DEFAULT_THROTTLE_RATES["anon"]`` before
  any authentication runs: DRF would check credentials and permissions before its own throttles, so an
  anonymous flood or a token guesser would never meet one.
* ``SecurityHeadersMiddleware`` sets the Content-Security-Policy and the Permissions-Policy on every answer.
* ``DeferredJobsMiddleware`` tells the person when a job their request queued (an invitation's email, a
  campaign's send) had to wait in the outbox because the broker was unreachable (``core.jobs``): what they did
  is saved and the job goes out once the broker is back. Pages get a message; the API a ``Leme-Jobs-Deferred``
  header with the number of jobs put off.
* ``RequestMemoMiddleware`` gives each request its memo (``core.request_memo``): what a page works out once for
  every list it reads (whether a leader's door lets them through to every customer), dropped with the answer.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.utils.translation import gettext as _
from rest_framework.settings import api_settings

from config.health import HEALTHZ_PATH, healthz
from core import jobs, ratelimit, request_memo
from core.clientip import client_address

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTHZ_PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)


def _holds_nul(values: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values.getlist(key)) for key in values)


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # request.POST is what CsrfViewMiddleware reads next anyway; for JSON or raw bodies it is empty.
        if "\x00" in request.path_info or _holds_nul(request.GET) or _holds_nul(request.POST):
            message = _("The request holds a NUL character, which Leme does not accept.")
            if is_api_request(request):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ApiThrottleMiddleware:
    SCOPE = "api-anon"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get("anon") if is_api_request(request) else None
        if not rate:
            return self.get_response(request)
        address = client_address(request)
        verdict = ratelimit.peek(self.SCOPE, address, rate)
        if not verdict.allowed:
            response = JsonResponse(
                {
                    "detail": _("Too many requests. Try again in %(seconds)s seconds.")
                    % {"seconds": verdict.retry_after}
                },
                status=429,
            )
            response["Retry-After"] = str(verdict.retry_after)
            return response
        response = self.get_response(request)
        # DRF puts the user it authenticated (by token or session) on the request; a failed or missing
        # authentication leaves it anonymous.
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated):
            ratelimit.hit(self.SCOPE, address, rate)
        return response


class SecurityHeadersMiddleware:
    """Content-Security-Policy (``LEME_CONTENT_SECURITY_POLICY``) and Permissions-Policy
    (``LEME_PERMISSIONS_POLICY``) on every answer that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if policy := settings.LEME_CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", policy)
        if permissions := settings.LEME_PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", permissions)
        return response


class DeferredJobsMiddleware:
    """After the messages middleware: the message it stores is shown on the next page (the redirect's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with jobs.watch() as watched:
            response = self.get_response(request)
        if watched.deferred and watched.notify and not watched.told:
            if is_api_request(request):
                response["Leme-Jobs-Deferred"] = str(len(watched.deferred))
            else:
                messages.warning(
                    request,
                    _(
                        "Saved. Leme's job queue cannot be reached right now, so the email or job this started will "
                        "go out on its own as soon as it is back: there is nothing else to do."
                    ),
                )
        return response


class RequestMemoMiddleware:
    """Each request works in its own memo (``core.request_memo``), dropped when the answer is made."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_memo.request_scope():
            return self.get_response(request)
