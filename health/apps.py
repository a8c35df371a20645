"""Customer health: product usage in, an explainable score out, recomputed nightly.

Usage events arrive through the API or a CSV import and roll up into one row per customer and day; the
nightly score reads those rows (never the raw events), keeps one history row per customer and day, and
announces band changes (``health.events``) for the apps above (playbooks). Portfolio and surveys never
import health: the portfolio list reads the current health from the customer's own columns, which the
nightly run writes.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    """Usage events, daily usage rollups and the nightly health score."""

    name = "health"
    verbose_name = _("Health")

    def ready(self) -> None:
        from accounts import navigation
        from core import panels
        from core.labels import ACTIVITY_KINDS
        from health import panels as health_panels
        from health.services import HEALTH_ACTIVITY

        ACTIVITY_KINDS.register(HEALTH_ACTIVITY, _("Health"))
        panels.register(
            panels.CustomerPanel(
                key="health", template="health/_customer_panel.html", load=health_panels.customer_panel, order=10
            )
        )
        panels.register_day(
            panels.DayPanel(
                key="health-red",
                template="health/_day_panel.html",
                load=health_panels.day_panel,
                email_templates=("health/email/_day_panel.html", "health/email/_day_panel.txt"),
                # Below My day's lists, and the slowest part of a leader's day (thousands of red scores to look
                # at): asked for once the page shows.
                url_name="health:day_red",
                title=_("Turned red today"),
            )
        )
        # The overrides in force are on the leader's health page (and /health/overrides/), not in the menu.
        navigation.register(
            navigation.NavItem(key="health", label=_("Health"), url_name="health:overview", order=32),
        )
