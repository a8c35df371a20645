"""Server errors, with one exception: a database that cannot be reached, or that refuses writes, is
Leme being unavailable (503, "try again later"), not a bug in Leme (500).

``server_error`` is ``handler500``: Django calls it for any exception nothing else handled, wherever it
was raised (a view, the API, a middleware reading the session), still inside the ``except`` block, so the
exception is ``sys.exc_info()``'s. Pages get templates/503.html, rendered without a request (its context
processors would query the database); the API gets ``{"detail": ...}``.
"""

import sys

from django.db import DatabaseError, InterfaceError, InternalError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from config.middleware import is_api_request

# PostgreSQL's "read-only SQL transaction" (a replica, or a primary set read-only during maintenance);
# psycopg raises it as an InternalError.
READ_ONLY_SQLSTATE = "25006"
RETRY_AFTER_SECONDS = 60


def database_unavailable(exc: BaseException | None) -> bool:
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, InternalError):
        return getattr(exc.__cause__, "sqlstate", None) == READ_ONLY_SQLSTATE
    return False


def unavailable(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        response = JsonResponse({"detail": _("Leme is unavailable: its database cannot be reached.")}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, DatabaseError) and database_unavailable(exc):
        return unavailable(request)
    return defaults.server_error(request)
