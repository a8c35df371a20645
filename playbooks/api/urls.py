from rest_framework.routers import SimpleRouter

from playbooks.api import views

# SimpleRouter: the API root view belongs to accounts' router, which is included first.
router = SimpleRouter()
router.register("playbooks", views.PlaybookViewSet, basename="playbook")
router.register("playbook-runs", views.RunViewSet, basename="playbook-run")
urlpatterns = router.urls
