from django.urls import path

from health import views

app_name = "health"

urlpatterns = [
    path("usage/import/", views.usage_import, name="usage_import"),
    path("customers/<int:pk>/health/override/", views.override_start, name="override_start"),
    path("customers/<int:pk>/health/override/end/", views.override_end, name="override_end"),
    path("health/overrides/", views.overrides, name="overrides"),
]
