"""Login guessing, as django-axes counts it for Leme (settings: ``AXES_*`` and ``LEME_LOGIN_*``).

Two limits, both over the cool-off window (``AXES_COOLOFF_TIME``, 15 minutes):

* ``AXES_FAILURE_LIMIT`` failures for one email from one client address lock that pair out: a person who
  forgot their password, or someone guessing it, without locking the owner out from anywhere else;
* ``LEME_LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one address across all emails refuse that address:
  one guess sprayed over many accounts.

The address is the client's own (:func:`core.clientip.client_address`, through the trusted proxies), and the
email is counted lower-cased and trimmed, as the login itself matches it.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def login_email(request: HttpRequest, credentials: dict | None) -> str | None:
    """The email a login attempt is counted under (``AXES_USERNAME_CALLABLE``): trimmed and lower-cased,
    so ``Lucas@Empresa.com.br`` and ``lucas@empresa.com.br`` share one counter."""
    field = settings.AXES_USERNAME_FORM_FIELD
    value = credentials.get(field) if credentials is not None else getattr(request, "data", request.POST).get(field)
    if not isinstance(value, str):
        return value
    return value.strip().lower()


def address_failures(request: HttpRequest) -> int:
    """Failed logins from the request's client address within the cool-off window, whatever the email."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    return (
        AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=get_cool_off_threshold(request)).aggregate(
            total=Sum("failures_since_start")
        )["total"]
        or 0
    )


def address_refused(request: HttpRequest) -> bool:
    return address_failures(request) >= settings.LEME_LOGIN_ADDRESS_FAILURE_LIMIT


class LoginGuessHandler(AxesDatabaseHandler):
    """axes' database handler with the per-address limit on top of its per-(email, address) one."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or (
            settings.AXES_LOCK_OUT_AT_FAILURE and address_refused(request)
        )

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        # axes locks the request out only when the (email, address) pair reached its limit; the failure that
        # brings the address to its own limit, and every attempt after it, is answered with the lockout too.
        if request is not None and not getattr(request, "axes_locked_out", False) and address_refused(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """The page a refused login gets (``AXES_LOCKOUT_CALLABLE``): 429, saying whether the email or the whole
    address is refused, and for how long, in the person's language."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    context = {
        "by_address": address_refused(request),
        "minutes": minutes,
        "username": get_client_username(request, credentials) or "",
    }
    response = render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
