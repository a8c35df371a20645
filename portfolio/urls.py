from django.urls import path

from portfolio.views import boards, customers, day, journey, listing, notifications, renewals, search, tasks

app_name = "portfolio"

urlpatterns = [
    path("portfolio/", listing.portfolio_list, name="list"),
    path("portfolio/reassign/", listing.portfolio_reassign, name="reassign"),
    path("portfolio/export/", listing.portfolio_export, name="export"),
    path("portfolio/views/", listing.saved_view_save, name="saved_view_save"),
    path("portfolio/views/<int:view_pk>/", listing.saved_view_rename, name="saved_view_rename"),
    path("portfolio/views/<int:view_pk>/delete/", listing.saved_view_delete, name="saved_view_delete"),
    path("customers/new/", listing.customer_create, name="customer_create"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer"),
    path("customers/<int:pk>/activities/", customers.activity_add, name="activity_add"),
    path("customers/<int:pk>/tasks/", customers.task_add, name="task_add"),
    path("customers/<int:pk>/contacts/", customers.contact_add, name="contact_add"),
    path("customers/<int:pk>/contacts/<int:contact_pk>/", customers.contact_edit, name="contact_edit"),
    path("customers/<int:pk>/contacts/<int:contact_pk>/archive/", customers.contact_archive, name="contact_archive"),
    path(
        "customers/<int:pk>/tasks/<int:task_pk>/complete/",
        customers.customer_task_complete,
        name="customer_task_complete",
    ),
    path("customers/<int:pk>/opportunities/", customers.opportunity_add, name="opportunity_add"),
    path(
        "customers/<int:pk>/opportunities/<int:opportunity_pk>/close/",
        customers.opportunity_close,
        name="opportunity_close",
    ),
    path(
        "customers/<int:pk>/milestones/<int:milestone_pk>/achieve/",
        journey.milestone_achieve,
        name="milestone_achieve",
    ),
    path("customers/<int:pk>/handoff/", journey.handoff, name="handoff"),
    path("customers/<int:pk>/ongoing/", journey.move_to_ongoing, name="move_to_ongoing"),
    path("customers/<int:pk>/reviews/<int:review_pk>/", journey.review, name="review"),
    path("customers/<int:pk>/churn/", journey.churn_open, name="churn_open"),
    path("customers/<int:pk>/churn/<int:churn_pk>/save/", journey.churn_save_attempt, name="churn_save"),
    path("customers/<int:pk>/churn/<int:churn_pk>/resolve/", journey.churn_resolve, name="churn_resolve"),
    path("customers/<int:pk>/uti/<int:stay_pk>/exit/", journey.uti_exit, name="uti_exit"),
    path("tasks/", tasks.my_tasks, name="my_tasks"),
    path("tasks/<int:task_pk>/complete/", day.task_complete, name="task_complete"),
    path("tasks/<int:task_pk>/snooze/", tasks.task_snooze, name="task_snooze"),
    path("tasks/<int:task_pk>/reassign/", tasks.task_reassign, name="task_reassign"),
    path("uti/", boards.uti_board, name="uti_board"),
    path("portfolio/import/", listing.import_csv, name="import"),
    path("portfolio/import/jobs/<int:job_pk>/", listing.import_job, name="import_job"),
    path("onboarding/", boards.onboarding_board, name="onboarding"),
    path("search/", search.search, name="search"),
    path("renewals/", renewals.renewals, name="renewals"),
    path("renewals/export/", renewals.renewals_export, name="renewals_export"),
    path("notifications/", notifications.notifications, name="notifications"),
]
