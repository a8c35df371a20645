"""/healthz: is this process able to serve? Checks the database and, when one is configured, the broker.

Jobs run inside the web process (no broker, or eager tasks) are fine in development and an error in
production (LEME_IN_PROCESS_TASKS_ALLOWED).

A load balancer waits for the answer only so long, so the checks run side by side and the probe answers
within HEALTHZ_TIMEOUT seconds whatever hangs: a check still running then counts as an error (503). Each
check connects with its own short timeout, so one that hangs ends soon after. ``config.middleware``
answers the probe before the session, the language and the login run: it sets no cookie.
"""

import logging
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

HEALTHZ_PATH = "/healthz"
# Under a second, with room for the answer itself: a load balancer that waits one second gets its 503 in time.
HEALTHZ_TIMEOUT = 0.8
# How long each check's own connection may take to open (seconds; PostgreSQL takes whole seconds).
CONNECT_TIMEOUT = 1


def _database() -> str:
    # A connection of its own, with a short connect timeout: the request's connection would wait for the
    # operating system's (many seconds) and is not this thread's anyway.
    database = connections.create_connection(DEFAULT_DB_ALIAS)
    if database.vendor == "postgresql":
        options = {**database.settings_dict.get("OPTIONS", {}), "connect_timeout": CONNECT_TIMEOUT}
        database.settings_dict = {**database.settings_dict, "OPTIONS": options}
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        database.close()
    return "ok"


class InProcessTasks(Exception):
    """Background jobs run inside the web process where they must not (production)."""


def _broker() -> str:
    if not settings.CELERY_BROKER_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        if not settings.LEME_IN_PROCESS_TASKS_ALLOWED:
            raise InProcessTasks("background jobs run inside the web process: set CELERY_BROKER_URL or REDIS_URL")
        return "in-process"
    from config.celery import app

    timeouts = {"socket_connect_timeout": CONNECT_TIMEOUT, "socket_timeout": CONNECT_TIMEOUT}
    with app.connection_for_write(connect_timeout=CONNECT_TIMEOUT, transport_options=timeouts) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=CONNECT_TIMEOUT)
    return "ok"


CHECKS = {"database": _database, "broker": _broker}


def _run(name: str) -> str:
    try:
        return CHECKS[name]()
    except Exception:
        # Whatever a check raises, the answer is the same: this process cannot serve; the log says why.
        logger.exception("health check failed", extra={"check": name})
        return "error"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    executor = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="healthz")
    futures = {name: executor.submit(_run, name) for name in CHECKS}
    wait(futures.values(), timeout=HEALTHZ_TIMEOUT)
    # A check still running is left to end on its own connect timeout; the probe does not wait for it.
    executor.shutdown(wait=False, cancel_futures=True)
    checks: dict[str, str] = {}
    for name, future in futures.items():
        if future.done():
            checks[name] = future.result()
        else:
            logger.warning("health check timed out", extra={"check": name, "timeout": HEALTHZ_TIMEOUT})
            checks[name] = "timeout"
    healthy = all(value not in ("error", "timeout") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
