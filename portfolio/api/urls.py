from rest_framework.routers import SimpleRouter

from portfolio.api import views

# SimpleRouter: the API root view belongs to accounts' router, which is included first.
router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("mrr-movements", views.MrrMovementViewSet, basename="mrr-movement")
router.register("activities", views.ActivityViewSet, basename="activity")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("churn-requests", views.ChurnRequestViewSet, basename="churn-request")
urlpatterns = router.urls
