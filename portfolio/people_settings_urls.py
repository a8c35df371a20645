from django.urls import path

from portfolio import people_settings_views as views

app_name = "people_settings"

urlpatterns = [
    path("people/", views.people, name="people"),
    path("people/teams/new/", views.team_create, name="team_create"),
    path("people/teams/", views.team_update, name="team_update"),
    path("people/person/", views.person_update, name="person_update"),
    path("people/active/", views.person_active, name="person_active"),
]
