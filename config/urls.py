from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as account_views
from config import views
from config.health import healthz

api_patterns = [
    path("", include("accounts.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("i18n/setlang/", account_views.language_set, name="set_language"),
    path("api/v1/", include(api_patterns)),
    path("admin/", admin.site.urls),
]
