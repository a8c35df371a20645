from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("new/", views.campaign_create, name="campaign_create"),
    path("<int:pk>/", views.campaign_detail, name="campaign"),
    path("<int:pk>/activate/", views.campaign_activate, name="campaign_activate"),
    path("<int:pk>/close/", views.campaign_close, name="campaign_close"),
    path("<int:pk>/export.csv", views.campaign_export, name="campaign_export"),
    path("results/<str:kind>/", views.overview, name="overview"),
    path("results/<str:kind>/export.csv", views.overview_export, name="overview_export"),
]
