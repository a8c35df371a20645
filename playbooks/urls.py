from django.urls import path

from playbooks import views

app_name = "playbooks"

urlpatterns = [
    path("", views.playbook_list, name="list"),
    path("new/", views.playbook_create, name="create"),
    path("<int:pk>/", views.playbook_detail, name="detail"),
    path("<int:pk>/settings/", views.playbook_settings, name="settings"),
    path("<int:pk>/steps/", views.step_add, name="step_add"),
    path("<int:pk>/steps/<int:index>/remove/", views.step_remove, name="step_remove"),
    path("<int:pk>/steps/<int:index>/move/", views.step_move, name="step_move"),
    path("<int:pk>/steps/<int:index>/test/", views.step_test_send, name="step_test_send"),
    path("<int:pk>/publish/", views.playbook_publish, name="publish"),
    path("<int:pk>/pause/", views.playbook_pause, name="pause"),
    path("<int:pk>/resume/", views.playbook_resume, name="resume"),
    path("<int:pk>/preview/", views.playbook_preview, name="preview"),
    path("start/<int:customer_pk>/", views.run_start, name="start"),
    path("start/", views.runs_start_bulk, name="start_bulk"),
    path("runs/<int:run_pk>/", views.run_detail, name="run"),
]
