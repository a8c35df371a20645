from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """The people who use Leme: users, teams, roles, and what each may see."""

    name = "accounts"
    verbose_name = _("People")

    def ready(self) -> None:
        from accounts import navigation, outbox, receivers  # noqa: F401 - receivers connects the password signal
        from core import jobs

        # Jobs the broker could not take are kept in accounts' outbox until it is back (core.jobs).
        jobs.set_outbox(outbox.keep)

        navigation.register(
            navigation.NavItem(key="home", label=_("My day"), url_name="home", order=10),
            navigation.NavItem(
                key="team",
                label=_("Team"),
                url_name="accounts:team",
                order=80,
                roles=frozenset({"admin", "leader"}),
            ),
            navigation.NavItem(
                key="integrations",
                label=_("Integrations"),
                url_name="accounts:integrations",
                order=85,
                roles=frozenset({"admin"}),
            ),
            navigation.NavItem(
                key="settings",
                label=_("Settings"),
                url_name="accounts:settings",
                order=90,
                roles=frozenset({"admin", "leader"}),
            ),
        )
