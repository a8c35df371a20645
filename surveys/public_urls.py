"""The public survey pages, mounted at ``/s/`` by ``config.urls``: namespace ``survey_public``.

Emails link to ``survey_public:answer`` (``/s/<token>/``, with ``?score=N`` to choose a score) and
``survey_public:unsubscribe`` (``/s/<token>/unsubscribe/``, also the RFC 8058 ``List-Unsubscribe`` target).
The staff's survey pages live in the ``surveys`` namespace; these never require a login.
"""

from django.urls import path

from surveys import public_views

app_name = "survey_public"

urlpatterns = [
    path("<slug:token>/", public_views.answer, name="answer"),
    path("<slug:token>/thanks/", public_views.thanks, name="thanks"),
    path("<slug:token>/unsubscribe/", public_views.unsubscribe, name="unsubscribe"),
]
