from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    """NPS, CSAT, CES, eNPS and CHI surveys: campaigns, email deliveries, public answers, results."""

    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self) -> None:
        from accounts import navigation
        from core import panels, touches
        from core.labels import ACTIVITY_KINDS, TASK_ORIGINS
        from surveys import subscribers  # noqa: F401 - subscribing is importing
        from surveys.answers import DETRACTOR_ORIGIN, SURVEY_ACTIVITY, touch_closes
        from surveys.selectors import customer_survey_history

        TASK_ORIGINS.register(DETRACTOR_ORIGIN, _("survey detractor"))
        ACTIVITY_KINDS.register(SURVEY_ACTIVITY, _("Survey answer"))
        touches.register(touch_closes)
        panels.register(
            panels.CustomerPanel(
                key="survey-history", template="surveys/_customer_history.html", load=customer_survey_history
            )
        )

        navigation.register(
            navigation.NavItem(key="surveys", label=_("Surveys"), url_name="surveys:campaigns", order=40),
        )
