"""Changing a health profile: every change is a new version, never an edit of one in place.

A run scores with the profile's latest version and each day's score keeps the version it was computed with, so
a new version applies from the next nightly run and the past keeps its own rules.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from accounts.access import can_edit_health_profiles
from accounts.models import User
from core import clock
from health.models import HealthProfile, HealthProfileVersion
from health.profile_rules import FIELDS, key_events_errors, number, version_errors


def _clean(measures: dict) -> dict:
    """The measures as the JSON stores them: integers for weights and days, numbers for thresholds."""
    cleaned = {}
    for key, settings in measures.items():
        values = {field: number(settings[field]) for field in FIELDS}
        values["weight"] = int(values["weight"])
        values["fresh_days"] = int(values["fresh_days"])
        cleaned[key] = values
    return cleaned


@transaction.atomic
def profile_version_create(
    *,
    profile: HealthProfile,
    measures: dict,
    red_max: int,
    yellow_max: int,
    actor: User,
    key_events: list[str] | None = None,
) -> HealthProfileVersion:
    """Save a profile's rules as its next version, by ``actor`` (an admin), now.

    ``key_events``: the event names the depth measure counts (none: every event); None keeps the current
    version's.

    Refuses (ValidationError by field, as ``version_errors`` names them) rules that cannot score: a negative
    weight, weights adding up to 0, a measure whose worst equals its best, bands out of order. Refuses a
    version identical to the current one: there is nothing to save.
    """
    if not can_edit_health_profiles(actor):
        raise PermissionDenied(_("Only admins change the health score's rules."))
    errors = version_errors(measures, red_max, yellow_max)
    if key_events is not None:
        key_events = sorted(set(key_events))
        for message in key_events_errors(key_events, measures):
            errors.setdefault("key_events", []).append(message)
    if errors:
        raise ValidationError(errors)
    # One version at a time per profile: the lock makes two admins saving at once get numbers in turn.
    profile = HealthProfile.objects.select_for_update().get(pk=profile.pk)
    measures = _clean(measures)
    current = profile.versions.order_by("-number").first()
    if key_events is None:
        key_events = list(current.key_events) if current is not None else []
    if current is not None and (current.measures, current.red_max, current.yellow_max, current.key_events) == (
        measures,
        red_max,
        yellow_max,
        key_events,
    ):
        raise ValidationError(_("Nothing changed: the rules are the same as the current version's."))
    latest = profile.versions.aggregate(n=Max("number"))["n"] or 0
    version = HealthProfileVersion.objects.create(
        profile=profile,
        number=latest + 1,
        measures=measures,
        red_max=red_max,
        yellow_max=yellow_max,
        key_events=key_events,
        created_by=actor,
    )
    # created_at is stamped by the database's clock; Leme's clock says when (the demo and tests set it).
    version.created_at = clock.now()
    HealthProfileVersion.objects.filter(pk=version.pk).update(created_at=version.created_at)
    return version
