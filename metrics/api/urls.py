from django.urls import path

from metrics.api import views

urlpatterns = [
    path("metrics/summary/", views.MetricsSummaryView.as_view(), name="metrics-summary"),
    path("metrics/csms/", views.MetricsCsmView.as_view(), name="metrics-csms"),
    path("metrics/customers/", views.MetricsCustomersView.as_view(), name="metrics-customers"),
]
