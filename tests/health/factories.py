from datetime import date, timedelta

import factory

from health.models import HealthProfile, HealthProfileVersion, UsageDay, UsageEvent
from tests.portfolio.factories import CustomerFactory


class UsageEventFactory(factory.django.DjangoModelFactory):
    """A stored usage event, as if it had arrived long ago (retention and rollup tests set ``occurred_at``)."""

    class Meta:
        model = UsageEvent

    customer = factory.SubFactory(CustomerFactory)
    source_id = factory.Sequence(lambda n: f"evt-{n}")
    user_ref = "u-1"
    name = "login"


# Health test helpers: usage rows as the ingestion would have rolled them up, and profile versions.


def usage(customer, *, until: date, days: int = 30, users: int = 10, events: int = 50, skip: int = 0) -> None:
    """One UsageDay per day for the ``days`` days up to ``until`` (the first ``skip`` of them left out)."""
    UsageDay.objects.bulk_create(
        UsageDay(customer=customer, day=until - timedelta(days=n), active_users=users, events=events)
        for n in range(skip, days)
    )


def version(service_model: str, stage: str, measures: dict, *, red_max: int = 50, yellow_max: int = 75):
    """A new latest version of the (service model, stage) profile."""
    profile = HealthProfile.objects.get(service_model=service_model, stage=stage)
    number = (profile.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return HealthProfileVersion.objects.create(
        profile=profile, number=number, measures=measures, red_max=red_max, yellow_max=yellow_max
    )


def rule(weight: int, worst: float, best: float, fresh_days: int = 90) -> dict:
    return {"weight": weight, "worst": worst, "best": best, "fresh_days": fresh_days}
