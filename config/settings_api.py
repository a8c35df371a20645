"""The Settings API, ``/api/v1/settings/``: one router for every Settings endpoint, whichever app it belongs to
(each app's ``api/settings_views.py``). A new Settings endpoint registers here."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import settings_views as accounts_settings
from portfolio.api import settings_views as portfolio_settings
from surveys.api import settings_views as survey_settings

# SimpleRouter: the API root view belongs to accounts' router.
router = SimpleRouter()
router.register("history", accounts_settings.SettingHistoryViewSet, basename="settings-history")
router.register("journey-policies", portfolio_settings.JourneyPolicyViewSet, basename="settings-journey-policy")
router.register("churn-categories", portfolio_settings.ChurnCategoryViewSet, basename="settings-churn-category")
router.register("churn-reasons", portfolio_settings.ChurnReasonViewSet, basename="settings-churn-reason")
router.register(
    "milestone-templates", portfolio_settings.MilestoneTemplateViewSet, basename="settings-milestone-template"
)
router.register("review-questions", portfolio_settings.ReviewQuestionViewSet, basename="settings-review-question")
router.register("chi-criteria", survey_settings.ChiCriterionViewSet, basename="settings-chi-criterion")
router.register("teams", accounts_settings.TeamViewSet, basename="settings-team")
router.register("people", accounts_settings.PersonViewSet, basename="settings-person")

urlpatterns = [
    # One set of survey defaults for the workspace: no list, no id.
    path(
        "survey-defaults/",
        survey_settings.SurveyDefaultsViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update"}, basename="settings-survey-defaults"
        ),
        name="settings-survey-defaults",
    ),
    *router.urls,
]
