"""The embedded default: SQLite, in-process tasks, emails written to var/mail."""

from .base import *
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="leme-development-only-not-a-secret")
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
