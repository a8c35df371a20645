from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    """NPS, CSAT, CES, eNPS and CHI surveys: campaigns, email deliveries, public answers, results."""

    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self) -> None:
        from accounts import navigation
        from surveys import subscribers  # noqa: F401 - subscribing is importing

        navigation.register(
            navigation.NavItem(key="surveys", label=_("Surveys"), url_name="surveys:campaigns", order=40),
        )
