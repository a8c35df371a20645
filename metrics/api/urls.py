from django.urls import path

from metrics.api import views, views_operations

urlpatterns = [
    path("metrics/summary/", views.MetricsSummaryView.as_view(), name="metrics-summary"),
    path("metrics/csms/", views.MetricsCsmView.as_view(), name="metrics-csms"),
    path("metrics/customers/", views.MetricsCustomersView.as_view(), name="metrics-customers"),
    path("metrics/unit-economics/", views.MetricsUnitEconomicsView.as_view(), name="metrics-unit-economics"),
    path("metrics/spend/", views.MetricsSpendView.as_view(), name="metrics-spend"),
    path("metrics/operations/", views_operations.MetricsOperationsView.as_view(), name="metrics-operations"),
    path("metrics/churn-requests/", views_operations.MetricsChurnRequestsView.as_view(), name="metrics-churn-requests"),
]
