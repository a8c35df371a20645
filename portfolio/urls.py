from django.urls import path

from portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("portfolio/", views.portfolio_list, name="list"),
    path("portfolio/reassign/", views.portfolio_reassign, name="reassign"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
    path("customers/<int:pk>/activities/", views.activity_add, name="activity_add"),
    path("customers/<int:pk>/tasks/", views.task_add, name="task_add"),
    path("customers/<int:pk>/contacts/", views.contact_add, name="contact_add"),
    path("customers/<int:pk>/opportunities/", views.opportunity_add, name="opportunity_add"),
    path(
        "customers/<int:pk>/opportunities/<int:opportunity_pk>/close/",
        views.opportunity_close,
        name="opportunity_close",
    ),
    path(
        "customers/<int:pk>/milestones/<int:milestone_pk>/achieve/", views.milestone_achieve, name="milestone_achieve"
    ),
    path("customers/<int:pk>/handoff/", views.handoff, name="handoff"),
    path("customers/<int:pk>/ongoing/", views.move_to_ongoing, name="move_to_ongoing"),
    path("customers/<int:pk>/reviews/<int:review_pk>/", views.review, name="review"),
    path("customers/<int:pk>/churn/", views.churn_open, name="churn_open"),
    path("customers/<int:pk>/churn/<int:churn_pk>/save/", views.churn_save_attempt, name="churn_save"),
    path("customers/<int:pk>/churn/<int:churn_pk>/resolve/", views.churn_resolve, name="churn_resolve"),
    path("customers/<int:pk>/uti/<int:stay_pk>/exit/", views.uti_exit, name="uti_exit"),
    path("tasks/<int:task_pk>/complete/", views.task_complete, name="task_complete"),
    path("uti/", views.uti_board, name="uti_board"),
    path("portfolio/import/", views.import_csv, name="import"),
    path("onboarding/", views.onboarding_board, name="onboarding"),
]
