from django.urls import path

from metrics import views, views_operations

app_name = "metrics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("panels/churn-reasons/", views.panel_reasons, name="panel_reasons"),
    path("panels/unit-economics/", views.panel_unit_economics, name="panel_unit_economics"),
    path("panels/cohorts/", views.panel_cohorts, name="panel_cohorts"),
    path("panels/csms/", views.panel_csms, name="panel_csms"),
    path("panels/churn-requests/", views.panel_save, name="panel_save"),
    path("panels/operations/", views.panel_operations, name="panel_operations"),
    path("customers/", views.drilldown, name="drilldown"),
    path("export.csv", views.export, name="export"),
    path("operations/", views_operations.customers, name="operations"),
    path("spend/", views.spend_enter, name="spend"),
    path("spend/import/", views.spend_import, name="spend_import"),
    path("gross-margin/", views.gross_margin_set, name="gross_margin"),
]
