"""The playbook emails' public page, mounted at ``/e/`` by ``config.urls``: namespace ``playbook_public``.

``playbook_public:unsubscribe`` (``/e/<token>/unsubscribe/``) is the emails' ``List-Unsubscribe`` target: GET
asks, POST (the page's button, or a mail client's RFC 8058 one-click request) opts the contact out of
playbook emails; surveys are not affected. Never requires a login.
"""

from django.urls import path

from playbooks import public_views

app_name = "playbook_public"

urlpatterns = [
    path("<str:token>/unsubscribe/", public_views.unsubscribe, name="unsubscribe"),
]
