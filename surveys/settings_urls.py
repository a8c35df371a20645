from django.urls import path

from surveys import settings_views as views

app_name = "survey_settings"

urlpatterns = [
    path("surveys/", views.defaults, name="defaults"),
    path("chi/", views.chi, name="chi"),
]
