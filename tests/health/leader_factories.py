"""Health rows for the leaders' pages' tests: a customer's score on a day, an override in force.

The nightly computation writes these rows (HealthScore, and the customer's current health on the customer);
these helpers write what it would have, so the pages can be tested on a known history without it.
"""

from datetime import date, timedelta

from django.utils import timezone

from core import clock
from health.models import HealthOverride, HealthProfile, HealthProfileVersion, HealthScore
from portfolio.models import Customer


def band_of(score: int | None, red_max: int = 50, yellow_max: int = 75) -> str:
    if score is None:
        return ""
    if score <= red_max:
        return "red"
    return "yellow" if score <= yellow_max else "green"


def default_version() -> HealthProfileVersion:
    profile = HealthProfile.objects.get(service_model="high", stage="ongoing")
    return profile.versions.order_by("-number").first()


def score(
    customer: Customer, day: date, value: int | None, *, raw: dict | None = None, current: bool | None = None
) -> HealthScore:
    """``customer``'s score on ``day`` (its band from the default thresholds), with ``raw`` measure values;
    ``current`` (by default: when ``day`` is today) also sets it as the customer's health now."""
    band = band_of(value)
    # As the nightly run writes it: the band of the customer's score of the day before, if there was one.
    before = HealthScore.objects.filter(customer=customer, day=day - timedelta(days=1)).values_list("band", flat=True)
    row = HealthScore.objects.create(
        previous_band=next(iter(before), ""),
        customer=customer,
        day=day,
        score=value,
        band=band,
        profile_version=default_version(),
        measures={
            key: {"raw": v, "points": None, "weight": 10, "contribution": None, "left_out": "", "facts": {}}
            for key, v in (raw or {}).items()
        },
        computed_at=timezone.now(),
    )
    if current or (current is None and day == clock.today()):
        Customer.objects.filter(pk=customer.pk).update(
            health_score=value, health_band=band, health_real_score=value, health_real_band=band
        )
    return row


def override(customer: Customer, *, band: str, reason: str, by, ends_on: date) -> HealthOverride:
    """An override in force, shown instead of the computed band (as the overrides service leaves it)."""
    row = HealthOverride.objects.create(
        customer=customer, band=band, reason=reason, ends_on=ends_on, created_by=by, created_at=clock.now()
    )
    Customer.objects.filter(pk=customer.pk).update(health_band=band)
    return row
