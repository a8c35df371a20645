"""What the Settings pages read from accounts: the history of changes of one page."""

from django.db.models import QuerySet

from accounts.access import can_read_settings
from accounts.models import SettingChange, User

HISTORY_LENGTH = 30


def setting_changes(*, user: User, areas: tuple[str, ...], limit: int = HISTORY_LENGTH) -> QuerySet[SettingChange]:
    """The latest changes of the Settings pages ``areas``, newest first, with who made them (one query); nothing
    for someone who may not read the Settings."""
    if not can_read_settings(user):
        return SettingChange.objects.none()
    return SettingChange.objects.filter(area__in=areas).select_related("actor").order_by("-changed_at", "-pk")[:limit]


def setting_history(user: User) -> QuerySet[SettingChange]:
    """Every change of every Settings page, newest first, with who made them (the API pages through it); nothing
    for someone who may not read the Settings."""
    if not can_read_settings(user):
        return SettingChange.objects.none()
    return SettingChange.objects.select_related("actor").order_by("-changed_at", "-pk")
