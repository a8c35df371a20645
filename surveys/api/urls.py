from django.urls import path
from rest_framework.routers import SimpleRouter

from surveys.api import views

# SimpleRouter: the API root view belongs to accounts' router, which is included first.
router = SimpleRouter()
router.register("survey-campaigns", views.CampaignViewSet, basename="survey-campaign")
router.register("survey-responses", views.ResponseViewSet, basename="survey-response")
urlpatterns = [
    *router.urls,
    path("survey-bounces/", views.SurveyBounceView.as_view(), name="survey-bounces"),
]
