"""Settings for the test suite: PostgreSQL and Redis on the machine, real as in production."""

import os

from .base import *
from .base import LEME_SURVEY_PACE_KEY, celery_routing, env, without_jit

DEBUG = False
SECRET_KEY = "leme-test-only-not-a-secret"  # noqa: S105
DATABASES = {"default": without_jit(env.db("TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/leme"))}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Eager by default so a service's task runs in the test's process; tests that need the real broker
# start a worker against TEST_BROKER_URL themselves.
CELERY_BROKER_URL = env("TEST_BROKER_URL", default="redis://127.0.0.1:6379/15")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="leme-test")
CELERY_TASK_QUEUES, CELERY_TASK_ROUTES = celery_routing(CELERY_TASK_DEFAULT_QUEUE)
# Modules a test's worker imports besides the apps' tasks (e.g. a subscriber that only a test defines).
CELERY_IMPORTS = env.list("LEME_TEST_CELERY_IMPORTS", default=[])
SITE_URL = "http://testserver"
ALLOWED_HOSTS = ["*"]
# Serve static files straight from the app folders: the tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Templates that only tests render (a panel registered by a test).
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "tests" / "templates"]}]

# Under pytest-xdist each worker process has its own database (pytest-django names it after the worker) and
# its own shared send pace, so two tests running at once never share one.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    LEME_SURVEY_PACE_KEY = f"{LEME_SURVEY_PACE_KEY}:{XDIST_WORKER}"
