"""/healthz: is this process able to serve? Checks the database and, when one is configured, the broker.

Jobs run inside the web process (no broker, or eager tasks) are fine in development and an error in
production (LEME_IN_PROCESS_TASKS_ALLOWED)."""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


class InProcessTasks(Exception):
    """Background jobs run inside the web process where they must not (production)."""


def _broker() -> str:
    if not settings.CELERY_BROKER_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        if not settings.LEME_IN_PROCESS_TASKS_ALLOWED:
            raise InProcessTasks("background jobs run inside the web process: set CELERY_BROKER_URL or REDIS_URL")
        return "in-process"
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    healthy = True
    for name, check in (("database", _database), ("broker", _broker)):
        try:
            checks[name] = check()
        except Exception:
            logger.exception("health check failed", extra={"check": name})
            checks[name] = "error"
            healthy = False
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
