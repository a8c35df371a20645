from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    """Usage events, daily usage rollups and the nightly health score."""

    name = "health"
    verbose_name = _("Health")

    def ready(self) -> None:
        from accounts import navigation

        navigation.register(
            navigation.NavItem(key="health", label=_("Health"), url_name="health:overview", order=32),
        )
