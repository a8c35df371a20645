from django.urls import path

from metrics import views, views_operations

app_name = "metrics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("customers/", views.drilldown, name="drilldown"),
    path("export.csv", views.export, name="export"),
    path("operations/", views_operations.customers, name="operations"),
    path("spend/", views.spend_enter, name="spend"),
    path("spend/import/", views.spend_import, name="spend_import"),
    path("gross-margin/", views.gross_margin_set, name="gross_margin"),
]
