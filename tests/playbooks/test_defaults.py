"""The default playbooks Leme ships: installed once, in the workspace's language, and working."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from core import clock
from core.events import publish
from health.events import HealthBandChanged
from playbooks import engine, services
from playbooks.defaults import default_playbooks, install_defaults
from playbooks.models import Playbook, PlaybookStatus, PlaybookVersion, Run
from portfolio.models import Task
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))


@pytest.fixture
def defaults():
    install_defaults(Playbook, PlaybookVersion, clock.now())
    return {p.key: p for p in Playbook.objects.filter(key__isnull=False).select_related("live_version")}


def test_the_defaults_are_installed_once_in_portuguese_with_a_published_version(defaults):
    assert set(defaults) == {spec["key"] for spec in default_playbooks()}
    assert defaults["renewal-90"].name == "Renovação em 90 dias"
    assert all(p.live_version.number == 1 and p.live_version.published_at for p in defaults.values())
    call_command("playbooks_defaults")
    assert Playbook.objects.filter(key__isnull=False).count() == len(defaults)
    active = {k for k, p in defaults.items() if p.status == PlaybookStatus.ACTIVE}
    assert active == {"renewal-90", "back-to-green", "detractor-recovery", "uti-recovery-month"}


def test_renewal_in_90_days_prepares_the_renewal_at_90_60_and_30_days(org, defaults):
    customer = CustomerFactory(owner=org.csm_a, renewal_date=date(2026, 5, 31))
    with clock.at(MONDAY):
        engine.date_triggers_check()
        engine.runs_advance_due()
    for days in (30, 60):
        with clock.at(MONDAY + timedelta(days=days)):
            engine.runs_advance_due()
    titles = list(Task.objects.filter(customer=customer, origin="playbook").values_list("title", flat=True))
    assert len(titles) == 3
    assert "90 dias" in titles[0]


def test_back_to_green_starts_when_health_goes_red_and_ends_when_green(org, defaults, committed):
    customer = CustomerFactory(owner=org.csm_a)
    red = HealthBandChanged(customer_id=customer.pk, day=date(2026, 3, 2), from_band="yellow", to_band="red", score=30)
    with committed():
        publish(red)
    run = Run.objects.get(playbook=defaults["back-to-green"])
    owners = set(Task.objects.filter(customer=customer, origin="playbook").values_list("owner", flat=True))
    assert owners == {org.csm_a.pk, org.leader_a.pk}
    green = HealthBandChanged(customer_id=customer.pk, day=date(2026, 3, 9), from_band="red", to_band="green", score=75)
    with committed():
        publish(green)
    run.refresh_from_db()
    assert run.status == "exited"
    assert not Task.objects.filter(customer=customer, origin="playbook", status="open").exists()


def test_a_default_left_inactive_is_activated_with_one_click(org, defaults):
    kickoff = defaults["onboarding-kickoff"]
    services.playbook_resume(playbook=kickoff, actor=org.admin)
    kickoff.refresh_from_db()
    assert kickoff.status == PlaybookStatus.ACTIVE
