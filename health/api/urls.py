from django.urls import path

from health.api.views import UsageEventsView

urlpatterns = [path("usage-events/", UsageEventsView.as_view(), name="usage-events")]
