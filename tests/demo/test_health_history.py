"""The demo's health history: its past days are history (on the timeline, on their day, announced to no one);
only today's run, the nightly run, announces its band changes."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from core import clock
from core.events import recorded
from demo.health import history_days, score_history
from demo.people import seed_people
from demo.portfolio import seed_portfolio
from demo.usage import seed_usage
from health.events import HealthBandChanged
from health.models import HealthScore, UsageDay
from health.services import scores_recompute
from playbooks.models import Playbook, Run
from portfolio.models import Activity, Customer

CUSTOMERS = 120


@pytest.fixture
def demo_base():
    seed_people()
    seed_portfolio(customers=CUSTOMERS, journeys=0)
    seed_usage(customers=CUSTOMERS)


def band_changes(before: date | None = None):
    changes = Activity.objects.filter(kind="health", external_id__startswith="health-band:").exclude(data__from="")
    return changes.filter(data__day__lt=before.isoformat()) if before else changes


@pytest.mark.django_db(transaction=True)
def test_the_past_days_of_the_history_announce_nothing_and_are_on_the_timeline_on_their_day(demo_base):
    today = timezone.localdate()

    with recorded() as events:
        days = score_history(today)

    assert days == history_days(today)
    assert HealthScore.objects.filter(day=days[0]).exists()
    past = list(band_changes(before=today))
    assert len(past) > 10  # the history has band changes...
    assert [e for e in events if isinstance(e, HealthBandChanged) and e.day < today] == []  # ...announced to no one
    # the red ones of them enrolled no one in "Back to green" (active, as installed)
    assert Playbook.objects.get(key="back-to-green").status == "active"
    assert band_changes(before=today).filter(data__to="red").exists()
    assert not Run.objects.filter(trigger_key__startswith="band:").exclude(trigger_key__startswith=f"band:{today}")
    # a CSM reads each change on the customer's timeline on the day it happened
    assert {timezone.localdate(a.happened_at) for a in past} == {date.fromisoformat(a.data["day"]) for a in past}
    assert all(timezone.localdate(a.happened_at) == date.fromisoformat(a.data["day"]) for a in past)


@pytest.mark.django_db(transaction=True)
def test_after_the_history_the_nightly_run_announces_and_enrols(demo_base):
    today = timezone.localdate()
    score_history(today)
    # given the customers yellow today, whose usage then stops (every recent day without anyone active); which of
    # them that turns red depends on their other measures, which the seed draws
    yellow = list(Customer.objects.filter(health_band="yellow").values_list("pk", flat=True))
    UsageDay.objects.filter(customer__in=yellow, day__gt=today - timedelta(days=90)).update(active_users=0, events=0)
    tomorrow = today + timedelta(days=1)

    # when tomorrow's nightly run scores them
    with recorded() as events, clock.at(timezone.make_aware(datetime.combine(tomorrow, time(2, 30)))):
        scores_recompute(tomorrow)

    # then each one's change to red is announced, and "Back to green" enrols it
    turned_red = set(Customer.objects.filter(pk__in=yellow, health_band="red").values_list("pk", flat=True))
    assert turned_red  # usage stopping turns some of them red
    changed = [e for e in events if isinstance(e, HealthBandChanged) and e.customer_id in yellow]
    assert {e.customer_id for e in changed if e.to_band == "red"} == turned_red
    assert {(e.day, e.from_band) for e in changed if e.to_band == "red"} == {(tomorrow, "yellow")}
    runs = Run.objects.filter(customer__in=turned_red, playbook__key="back-to-green")
    assert sorted(runs.values_list("customer_id", "trigger_key")) == sorted(
        (pk, f"band:{tomorrow.isoformat()}:red") for pk in turned_red
    )
