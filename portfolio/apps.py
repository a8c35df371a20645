from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortfolioConfig(AppConfig):
    """Customers, their subscriptions and MRR, the timeline, tasks and the customer journey."""

    name = "portfolio"
    verbose_name = _("Portfolio")

    def ready(self) -> None:
        from accounts import navigation
        from core.labels import TASK_ORIGINS
        from portfolio import subscribers  # noqa: F401 - subscribing is importing

        TASK_ORIGINS.register("manual", _("manual"))
        TASK_ORIGINS.register("delinquency", _("overdue payment"))
        TASK_ORIGINS.register("uti", _("UTI plan"))
        TASK_ORIGINS.register("churn_request", _("churn request"))

        navigation.register(
            navigation.NavItem(
                key="tasks",
                label=_("Tasks"),
                url_name="portfolio:my_tasks",
                order=15,
                roles=frozenset({"csm", "ism", "farmer", "leader", "admin"}),
            ),
            navigation.NavItem(key="portfolio", label=_("Portfolio"), url_name="portfolio:list", order=20),
            navigation.NavItem(
                key="onboarding",
                label=_("Onboarding"),
                url_name="portfolio:onboarding",
                order=25,
                roles=frozenset({"ism", "leader", "admin", "viewer"}),
            ),
            navigation.NavItem(key="uti", label=_("UTI"), url_name="portfolio:uti_board", order=30),
            navigation.NavItem(
                key="renewals",
                label=_("Renewals"),
                url_name="portfolio:renewals",
                order=32,
                roles=frozenset({"csm", "farmer", "leader", "admin", "viewer"}),
            ),
        )
