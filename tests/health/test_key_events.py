"""Key events: the usage depth measure counts only the events a profile version names (every event when it
names none), exactly by name, and says which it counted; admins name them on the profile editor, each change
a new version with who and when."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core import clock
from health import services
from health.measures import changes, value_text
from health.models import HealthProfile, HealthScore, UsageDay
from health.profiles import profile_version_create
from tests.health.factories import rule, version
from tests.portfolio.factories import CustomerFactory, hand_off

pytestmark = pytest.mark.django_db

TODAY = clock.today()
KEY_EVENTS = ["invoice.sent", "report.created"]
# One day of a customer's usage: 5 active users, 40 events of which 8 are key events.
A_DAY = {"report.created": 6, "invoice.sent": 2, "login": 30, "report.created.draft": 1, "Report.Created": 1}


@pytest.fixture
def customer(org):
    """An ongoing high-touch customer scored on usage depth alone, with 30 days of usage up to today and an
    older day (outside the 30) full of key events that must not count."""
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    days = [
        UsageDay(customer=customer, day=TODAY - timedelta(days=n), active_users=5, events=40, events_by_name=A_DAY)
        for n in range(30)
    ]
    days.append(
        UsageDay(
            customer=customer,
            day=TODAY - timedelta(days=30),
            active_users=1,
            events=500,
            events_by_name={"report.created": 500},
        )
    )
    UsageDay.objects.bulk_create(days)
    return customer


def depth_profile(key_events=()):
    scoring = version("high", "ongoing", {"depth": rule(100, 0, 10)})
    scoring.key_events = list(key_events)
    scoring.save(update_fields=["key_events"])
    return scoring


def test_without_key_events_depth_counts_every_event(customer):
    depth_profile()

    services.scores_recompute(TODAY)

    row = HealthScore.objects.get(customer=customer, day=TODAY)
    # 30 days × 40 events ÷ (30 days × 5 users) = 8 → 80 points of 0 … 10
    assert row.measures["depth"]["raw"] == 8
    assert row.score == 80
    assert "key_events" not in row.measures["depth"]["facts"]


def test_with_key_events_depth_counts_only_those_names_exactly(customer):
    depth_profile(KEY_EVENTS)

    services.scores_recompute(TODAY)

    row = HealthScore.objects.get(customer=customer, day=TODAY)
    # 30 × (6 + 2) ÷ (30 × 5) = 1.6: not "login", not "report.created.draft", not "Report.Created", not the
    # 500 of the day before the 30
    assert row.measures["depth"]["raw"] == 1.6
    assert row.measures["depth"]["facts"] == {"events": 240, "users": 150, "key_events": KEY_EVENTS}
    assert row.score == 16


def test_profiles_with_and_without_key_events_are_scored_in_the_same_run(customer, org):
    depth_profile(["report.created"])
    version("tech", "ongoing", {"depth": rule(100, 0, 10)})
    tech = CustomerFactory(owner=org.csm_a, service_model="tech")
    hand_off(tech, org.csm_a)
    UsageDay.objects.create(customer=tech, day=TODAY, active_users=2, events=10, events_by_name={"report.created": 4})

    services.scores_recompute(TODAY)

    assert HealthScore.objects.get(customer=customer, day=TODAY).measures["depth"]["raw"] == 1.2  # 180 ÷ 150
    assert HealthScore.objects.get(customer=tech, day=TODAY).measures["depth"]["raw"] == 5  # 10 ÷ 2: every event


def test_a_customer_without_any_key_event_has_depth_0_not_no_data(customer):
    depth_profile(["nothing.like.this"])

    services.scores_recompute(TODAY)

    depth = HealthScore.objects.get(customer=customer, day=TODAY).measures["depth"]
    assert (depth["raw"], depth["left_out"]) == (0, "")


def test_the_explanation_says_which_events_counted(customer):
    every = {"raw": 8, "facts": {}}
    key = {"raw": 1.6, "facts": {"events": 240, "users": 150, "key_events": KEY_EVENTS}}

    with translation.override("en"):
        assert value_text("depth", every) == "8 events per active user a day"
        assert value_text("depth", key) == "1.6 key events per active user a day (invoice.sent, report.created)"
    with translation.override("pt-br"):
        text = value_text("depth", key)
        moved = changes({"depth": {**every, "contribution": 80}}, {"depth": {**key, "contribution": 16}})
    assert text == "1,6 eventos-chave por usuário ativo por dia (invoice.sent, report.created)"
    assert moved[0].text == (
        "Profundidade de uso −64: 8 eventos por usuário ativo por dia → "
        "1,6 eventos-chave por usuário ativo por dia (invoice.sent, report.created)"
    )


# --- Saving them ------------------------------------------------------------------------------------------------


@pytest.fixture
def profile():
    return HealthProfile.objects.get(service_model="high", stage="ongoing")


def form_data(profile, **changes) -> dict:
    current = profile.versions.order_by("-number").first()
    data = {"red_max": current.red_max, "yellow_max": current.yellow_max}
    for key, settings in current.measures.items():
        for field, value in settings.items():
            data[f"{key}-{field}"] = value
    data.update(changes)
    return data


def test_an_admin_names_key_events_on_the_page_as_a_new_version(org, profile, client_for):
    client = client_for(org.admin)

    response = client.post(
        f"/health/profiles/{profile.pk}/",
        form_data(profile, key_events=" report.created, invoice.sent\n\nreport.created \n"),
    )

    assert response.status_code == 302
    saved = profile.versions.get(number=2)
    assert saved.key_events == KEY_EVENTS
    assert saved.created_by == org.admin
    assert saved.measures == profile.versions.get(number=1).measures
    page = client.get(response["Location"])
    assert "Profundidade de uso, eventos-chave: — → invoice.sent, report.created" in page.text
    assert "invoice.sent\nreport.created</textarea>" in page.text
    # Emptied again: every event counts, a third version
    response = client.post(f"/health/profiles/{profile.pk}/", form_data(profile, key_events=""))
    assert response.status_code == 302
    assert profile.versions.get(number=3).key_events == []


def test_the_rules_in_force_say_which_events_depth_counts(org, profile, client_for):
    profile_version_create(
        profile=profile,
        measures=profile.versions.get(number=1).measures,
        red_max=50,
        yellow_max=75,
        key_events=KEY_EVENTS,
        actor=org.admin,
    )

    page = client_for(org.csm_a).get(f"/health/profiles/{profile.pk}/")

    assert "A profundidade de uso conta os eventos-chave invoice.sent, report.created." in page.text


@pytest.mark.parametrize(
    ("stage", "typed", "message"),
    [
        ("ongoing", "report.created, " + "x" * 101, "Um nome de evento tem no máximo 100 caracteres"),
        ("ongoing", ", ".join(f"e{n}" for n in range(51)), "No máximo 50 eventos-chave."),
        ("ongoing", "report\tcreated", "Um nome de evento não tem tabulações"),
        ("onboarding", "report.created", "que este perfil não pontua"),
    ],
)
def test_bad_key_events_answer_422_with_the_reason_and_save_nothing(org, client_for, stage, typed, message):
    profile = HealthProfile.objects.get(service_model="high", stage=stage)

    response = client_for(org.admin).post(
        f"/health/profiles/{profile.pk}/", form_data(profile, key_events=typed), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert 'id="id_key_events_error"' in response.text
    assert message in response.text
    assert profile.versions.count() == 1


def test_the_service_refuses_bad_key_events_too_and_keeps_them_when_not_given(org, profile):
    measures = profile.versions.get(number=1).measures
    with pytest.raises(ValidationError) as refused:
        profile_version_create(
            profile=profile, measures=measures, red_max=50, yellow_max=75, key_events=["a" * 101], actor=org.admin
        )
    assert "key_events" in refused.value.message_dict

    profile_version_create(
        profile=profile, measures=measures, red_max=50, yellow_max=75, key_events=KEY_EVENTS, actor=org.admin
    )
    kept = profile_version_create(profile=profile, measures=measures, red_max=45, yellow_max=75, actor=org.admin)

    assert kept.key_events == KEY_EVENTS
    with pytest.raises(ValidationError):  # the same names in another order: nothing changed
        profile_version_create(
            profile=profile,
            measures=measures,
            red_max=45,
            yellow_max=75,
            key_events=KEY_EVENTS[::-1],
            actor=org.admin,
        )
