"""The Settings area's front page: what an admin configures on Leme's own pages, and where."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import can_change_settings, can_read_settings
from accounts.settings_selectors import setting_changes

# Every Settings page's history, for the front page's "latest changes".
ALL_AREAS = ("journey", "milestones", "churn_reasons", "reviews", "surveys", "chi", "people")


def require_settings_reader(request: HttpRequest) -> None:
    """The Settings pages are read by admins and leaders; anyone else is refused (403) before anything is read."""
    if not can_read_settings(request.user):
        raise PermissionDenied


def settings_context(request: HttpRequest, section: str, **extra) -> dict:
    """What the shared layout (templates/settings/base.html) needs: the current section and whether the
    person may change what they see (a leader reads only)."""
    return {
        "settings_section": section,
        "can_change": can_change_settings(request.user),
        "nav_current": "settings",
        **extra,
    }


@login_required
def settings_index(request: HttpRequest) -> HttpResponse:
    require_settings_reader(request)
    context = settings_context(
        request, "index", history=setting_changes(user=request.user, areas=ALL_AREAS, limit=10), show_area=True
    )
    return render(request, "settings/index.html", context)
