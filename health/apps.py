from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    """Usage events, daily usage rollups and the nightly health score."""

    name = "health"
    verbose_name = _("Health")
