"""App configurations Leme gives to third-party apps (listed in INSTALLED_APPS in their place)."""

from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class LemeAdminConfig(AdminConfig):
    """``admin.site`` is Leme's site: only active superusers may enter (config/admin_site.py)."""

    default_site = "config.admin_site.LemeAdminSite"


class LemeAxesConfig(AxesAppConfig):
    """django-axes ships no pt-BR catalogue: the app gets a name of ours, and its model and field names (its own
    lazy msgids, listed below so that makemessages keeps them) are translated in locale/pt_BR."""

    verbose_name = _("Login protection")


AXES_MSGIDS = (
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("Locked Out"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"),
)
