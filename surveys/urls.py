from django.urls import path

from surveys import views
from surveys.views_chi import chi_assess, chi_customers

app_name = "surveys"

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("new/", views.campaign_create, name="campaign_create"),
    path("employees/", views.employee_import, name="employees"),
    path("<int:pk>/", views.campaign_detail, name="campaign"),
    path("<int:pk>/activate/", views.campaign_activate, name="campaign_activate"),
    path("<int:pk>/close/", views.campaign_close, name="campaign_close"),
    path("<int:pk>/export.csv", views.campaign_export, name="campaign_export"),
    path("<int:pk>/chi/", chi_customers, name="chi_customers"),
    path("<int:pk>/chi/<int:customer_pk>/", chi_assess, name="chi_assess"),
    path("results/<str:kind>/", views.overview, name="overview"),
    path("results/<str:kind>/export.csv", views.overview_export, name="overview_export"),
]
