from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlaybooksConfig(AppConfig):
    """Triggers, audiences and steps that turn events into tasks and emails."""

    name = "playbooks"
    verbose_name = _("Playbooks")
