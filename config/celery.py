"""The Celery app. Configuration lives in Django settings under the CELERY_ prefix."""

import logging
import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("leme")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def logging_from_django_settings(loglevel: int | str | None = None, **kwargs) -> None:
    """The worker and the beat log through Django's LOGGING (the same formatters as the web process, JSON
    lines in production) instead of Celery's own set-up; ``--loglevel`` still sets the level."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
