from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("customers/", views.drilldown, name="drilldown"),
    path("export.csv", views.export, name="export"),
]
