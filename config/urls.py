from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from config.health import healthz
from portfolio import views as portfolio_views

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("portfolio.api.urls")),
    path("", include("surveys.api.urls")),
    path("", include("metrics.api.urls")),
    path("", include("health.api.urls")),
    path("", include("playbooks.api.urls")),
    path("settings/", include("config.settings_api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (?script): the Content-Security-Policy runs no inline code.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]

urlpatterns = [
    path("", portfolio_views.my_day, name="home"),
    # The public pages first: the links in every email sent (thousands of contacts) are found without trying each
    # page of the team's first.
    path("s/", include("surveys.public_urls")),
    path("e/", include("playbooks.public_urls")),
    path("", include("portfolio.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("settings/", include("portfolio.settings_urls")),
    path("settings/", include("surveys.settings_urls")),
    path("settings/", include("portfolio.people_settings_urls")),
    path("surveys/", include("surveys.urls")),
    path("metrics/", include("metrics.urls")),
    path("", include("health.urls")),
    path("playbooks/", include("playbooks.urls")),
    path("i18n/setlang/", account_views.language_set, name="set_language"),
    path("api/v1/", include(api_patterns)),
    path("admin/", admin.site.urls),
]

# A database that cannot be reached answers 503 instead of 500 (config/errors.py).
handler500 = "config.errors.server_error"
