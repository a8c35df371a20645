from django.urls import path

from health import views

app_name = "health"

urlpatterns = [path("import/", views.usage_import, name="usage_import")]
