"""What every API endpoint shares below the apps: how a JSON body is read, and how often a person may call."""

from django.utils.translation import gettext as _
from rest_framework import parsers, throttling
from rest_framework.exceptions import ParseError
from rest_framework.settings import api_settings

from core.clientip import client_address


def _holds_nul(data: object) -> bool:
    """Whether a NUL character is in any key or string of parsed JSON (walked without recursion)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, except that

    * a body nested deeper than Python's recursion limit (a few thousand brackets) is a 400 like any other
      malformed JSON: the stdlib raises RecursionError, which DRF let through as a 500;
    * a NUL character anywhere ("\\u0000") is a 400, as config.middleware answers one in a query string or a
      form: PostgreSQL cannot take it, and a field that looks it up (a slug, a choice) would pass it to a query.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON parse error - the body is nested too deeply.")) from exc
        if _holds_nul(data):
            raise ParseError(_("The request holds a NUL character, which Leme does not accept."))
        return data


class UserRateThrottle(throttling.UserRateThrottle):
    """A logged-in person's rate (``DEFAULT_THROTTLE_RATES["user"]``), answered with 429 and Retry-After.

    Anonymous requests pass here: DRF throttles only after authentication and permissions, which refuse them
    first, so they are counted per client address before DRF runs (``config.middleware.ApiThrottleMiddleware``).
    The rate is read when asked, so a changed setting applies without a restart of the class.
    """

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_address(request)

    def allow_request(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return True
        return super().allow_request(request, view)
