from django.urls import path

from health import views, views_leader

app_name = "health"

urlpatterns = [
    path("usage/import/", views.usage_import, name="usage_import"),
    path("customers/<int:pk>/health/override/", views.override_start, name="override_start"),
    path("customers/<int:pk>/health/override/end/", views.override_end, name="override_end"),
    path("health/overrides/", views.overrides, name="overrides"),
    # My day's card of the customers gone red today, loaded after the page.
    path("health/red-today/", views.day_red, name="day_red"),
    # The leader's view, the customers behind its counts, the profile editor and the backtest.
    path("health/", views_leader.overview, name="overview"),
    path("health/customers/", views_leader.customers, name="customers"),
    path("health/profiles/", views_leader.profiles, name="profiles"),
    path("health/profiles/<int:profile_pk>/", views_leader.profile, name="profile"),
    path("health/backtest/", views_leader.backtest, name="backtest"),
]
