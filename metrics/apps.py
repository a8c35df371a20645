from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    """The leaders' KPIs: MRR movements, churn, GRR and NRR per period, CSM, segment, plan and service model."""

    name = "metrics"
    verbose_name = _("Metrics")

    def ready(self) -> None:
        from accounts import navigation
        from core import panels
        from metrics import (
            day,
            subscribers,  # noqa: F401 - subscribing is importing
        )

        panels.register_day(
            panels.DayPanel(
                key="metrics-month", template="metrics/_day_figures.html", load=day.day_figures, place="stats"
            )
        )

        navigation.register(
            navigation.NavItem(key="metrics", label=_("Metrics"), url_name="metrics:overview", order=35),
        )
