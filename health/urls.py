from django.urls import path

from health import views_leader

app_name = "health"

urlpatterns = [
    # The leader's view, the customers behind its counts, the profile editor and the backtest.
    path("", views_leader.overview, name="overview"),
    path("customers/", views_leader.customers, name="customers"),
    path("profiles/", views_leader.profiles, name="profiles"),
    path("profiles/<int:pk>/", views_leader.profile, name="profile"),
    path("backtest/", views_leader.backtest, name="backtest"),
]
