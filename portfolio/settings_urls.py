from django.urls import path

from portfolio import settings_views as views

app_name = "journey_settings"

urlpatterns = [
    path("journey/", views.policies, name="policies"),
    path("churn-reasons/", views.churn_reasons, name="churn_reasons"),
    path("churn-reasons/categories/", views.churn_category_add, name="churn_category_add"),
    path("churn-reasons/retire/", views.churn_reason_retire, name="churn_reason_retire"),
    path("churn-reasons/restore/", views.churn_reason_restore, name="churn_reason_restore"),
    path("churn-reasons/delete/", views.churn_reason_delete, name="churn_reason_delete"),
]
