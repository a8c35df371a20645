"""Teams and people on the Settings pages: who may change them (admins; leaders read their teams' people), the
rules (the last admin, a leader of the team, nobody deactivates themselves), the history each change leaves, and
a deactivated person's customers: they stay theirs and are listed as needing a new owner."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from accounts import people_services as services
from accounts.models import Role, SettingChange, Team
from portfolio.selectors.scope import customers_visible_to
from tests.factories import UserFactory
from tests.portfolio.factories import CustomerFactory
from tests.settings_area.test_services import english

PAGE = reverse("people_settings:people")
TEAM_CREATE = reverse("people_settings:team_create")
TEAM_UPDATE = reverse("people_settings:team_update")
PERSON_UPDATE = reverse("people_settings:person_update")
PERSON_ACTIVE = reverse("people_settings:person_active")


# --- Services: who may -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["leader_a", "csm_a", "ism_a", "viewer_all"])
def test_only_admins_change_teams_and_people(org, who):
    actor = getattr(org, who)
    with pytest.raises(PermissionDenied):
        services.team_create(name="Time Mid-market", actor=actor)
    with pytest.raises(PermissionDenied):
        services.team_update(team=org.team_a, name="Time A", leader=org.leader_a, actor=actor)
    with pytest.raises(PermissionDenied):
        services.person_update(person=org.csm_a, role=Role.LEADER, team=org.team_a, actor=actor)
    with pytest.raises(PermissionDenied):
        services.person_set_active(person=org.csm_b, active=False, actor=actor)
    org.csm_a.refresh_from_db()
    org.csm_b.refresh_from_db()
    assert (org.csm_a.role, org.csm_b.is_active) == (Role.CSM, True)
    assert not Team.objects.filter(name="Time Mid-market").exists()
    assert not SettingChange.objects.exists()


# --- Services: what changes, and the history -------------------------------------------------------------------


def test_a_person_moved_to_another_team_keeps_their_customers_and_the_new_leader_sees_them(org):
    # given a customer of team A's CSM
    customer = CustomerFactory(owner=org.csm_a)
    assert not customers_visible_to(org.leader_b).filter(pk=customer.pk).exists()

    # when an admin moves the CSM to team B
    services.person_update(person=org.csm_a, role=Role.CSM, team=org.team_b, actor=org.admin)

    # then the customer is still theirs, team B's leader sees it and team A's no longer does
    customer.refresh_from_db()
    assert customer.owner == org.csm_a
    assert customers_visible_to(org.leader_b).filter(pk=customer.pk).exists()
    assert not customers_visible_to(org.leader_a).filter(pk=customer.pk).exists()
    # and the history says who, what and what it affects
    change = SettingChange.objects.get()
    assert (change.area, change.subject, change.actor) == ("people", "Lucas Almeida", org.admin)
    assert change.changes == [
        {
            "field": "team",
            "before": "Time Enterprise",
            "after": "Time SMB",
            "effect": english(services.TEAM_MOVE_EFFECT),
        }
    ]


def test_a_team_is_created_renamed_and_given_a_leader_of_its_own(org):
    team = services.team_create(name="  Time   Mid-market ", actor=org.admin)
    assert team.name == "Time Mid-market"
    newcomer = UserFactory(role=Role.LEADER, full_name="Sofia Ramos")

    # a leader who is not in the team cannot lead it
    with pytest.raises(ValidationError) as refused:
        services.team_update(team=team, name="Time Mid", leader=newcomer, actor=org.admin)
    assert "leader" in refused.value.message_dict
    # nor a CSM of the team
    services.person_update(person=org.csm_a2, role=Role.CSM, team=team, actor=org.admin)
    with pytest.raises(ValidationError):
        services.team_update(team=team, name="Time Mid", leader=org.csm_a2, actor=org.admin)

    services.person_update(person=newcomer, role=Role.LEADER, team=team, actor=org.admin)
    services.team_update(team=team, name="Time Mid", leader=newcomer, actor=org.admin)

    team.refresh_from_db()
    assert (team.name, team.leader) == ("Time Mid", newcomer)
    last = SettingChange.objects.order_by("-pk").first()
    assert [c["field"] for c in last.changes] == ["name", "leader"]
    assert (last.changes[1]["before"], last.changes[1]["after"]) == ("—", "Sofia Ramos")
    with pytest.raises(ValidationError) as taken:
        services.team_create(name="time smb", actor=org.admin)
    assert "name" in taken.value.message_dict


def test_the_last_admin_is_neither_demoted_nor_deactivated(org):
    with pytest.raises(ValidationError) as demoted:
        services.person_update(person=org.admin, role=Role.LEADER, team=None, actor=org.admin)
    assert "role" in demoted.value.message_dict
    second = UserFactory(role=Role.ADMIN, full_name="Hugo Prado")
    with pytest.raises(ValidationError):
        services.person_set_active(person=second, active=False, actor=second)  # not themselves

    # with a second admin, the first can be deactivated, and then the second is the last
    services.person_set_active(person=org.admin, active=False, actor=second)
    with pytest.raises(ValidationError):
        services.person_update(person=second, role=Role.CSM, team=None, actor=second)
    org.admin.refresh_from_db()
    second.refresh_from_db()
    assert (org.admin.is_active, second.role) == (False, Role.ADMIN)


def test_a_leader_keeps_their_role_and_team_until_another_leads_it(org):
    with pytest.raises(ValidationError):
        services.person_update(person=org.leader_a, role=Role.CSM, team=org.team_a, actor=org.admin)
    with pytest.raises(ValidationError):
        services.person_update(person=org.leader_a, role=Role.LEADER, team=org.team_b, actor=org.admin)
    services.team_update(team=org.team_a, name=org.team_a.name, leader=None, actor=org.admin)
    services.person_update(person=org.leader_a, role=Role.CSM, team=org.team_a, actor=org.admin)
    org.leader_a.refresh_from_db()
    assert org.leader_a.role == Role.CSM


def test_a_deactivated_person_cannot_log_in_and_their_customers_wait_for_a_new_owner(org, client_for, api_for):
    customer = CustomerFactory(owner=org.leader_a, name="Rede Boa Saúde")
    org.leader_a.set_password("senha-forte-123")
    org.leader_a.save()
    already_in = client_for(org.leader_a)
    script = api_for(org.leader_a)
    assert script.get("/api/v1/customers/").status_code == 200

    services.person_set_active(person=org.leader_a, active=False, actor=org.admin)

    org.leader_a.refresh_from_db()
    customer.refresh_from_db()
    assert org.leader_a.is_active is False
    assert customer.owner == org.leader_a  # nothing reassigned
    org.team_a.refresh_from_db()
    assert org.team_a.leader is None  # a deactivated leader no longer leads
    # their open session ends, and the login page refuses them
    assert already_in.get(PAGE).status_code == 302
    login = Client()
    answer = login.post(reverse("accounts:login"), {"username": org.leader_a.email, "password": "senha-forte-123"})
    assert answer.status_code == 200
    assert "_auth_user_id" not in login.session
    subjects = list(SettingChange.objects.order_by("pk").values_list("subject", flat=True))
    assert subjects == ["Time Enterprise", "Mariana Costa"]

    # reactivated, they log in again with their role and team
    services.person_set_active(person=org.leader_a, active=True, actor=org.admin)
    org.leader_a.refresh_from_db()
    assert (org.leader_a.is_active, org.leader_a.role, org.leader_a.team) == (True, Role.LEADER, org.team_a)
    assert SettingChange.objects.count() == 3
    # the token made before stays revoked: whoever held it while they were away must not come back with them
    assert script.get("/api/v1/customers/").status_code == 401


# --- Pages ------------------------------------------------------------------------------------------------------


def test_an_admin_sees_teams_people_and_customer_counts(org, client_for, django_assert_max_num_queries):
    CustomerFactory(owner=org.csm_a)
    CustomerFactory(owner=org.csm_a2)
    CustomerFactory(owner=org.csm_b)
    for n in range(15):
        UserFactory(team=org.team_b, full_name=f"Pessoa {n}")
    client = client_for(org.admin)
    # the session and its person, teams, people, customers per team, customers needing an owner, the history
    with django_assert_max_num_queries(8):
        page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    teams = page.context["team_rows"]
    assert {row["team"].name: (row["team"].people, row["customers"]) for row in teams} == {
        "Time Enterprise": (6, 2),
        "Time SMB": (17, 1),
    }
    for person in (org.csm_b, org.viewer_all, org.admin):
        assert person.email in html
    assert f'action="{TEAM_CREATE}"' in html


def test_a_leader_reads_their_teams_people_only_and_changes_nothing(org, client_for):
    client = client_for(org.leader_a)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert org.csm_a.email in html
    assert org.csm_b.email not in html
    assert f'action="{PERSON_UPDATE}"' not in html
    assert client.post(PERSON_ACTIVE, {"person": org.csm_a.pk, "active": ""}).status_code == 403
    org.csm_a.refresh_from_db()
    assert org.csm_a.is_active


@pytest.mark.parametrize("who", ["csm_a", "ism_a", "viewer_a"])
def test_the_others_are_refused_the_page(org, client_for, who):
    client = client_for(getattr(org, who))
    assert client.get(PAGE).status_code == 403
    assert client.post(TEAM_CREATE, {"name": "Time Novo"}).status_code == 403
    assert not Team.objects.filter(name="Time Novo").exists()


def test_errors_answer_422_with_the_message(org, client_for):
    client = client_for(org.admin)

    demoted = client.post(PERSON_UPDATE, {"person": org.admin.pk, "role": Role.CSM, "team": ""})
    assert demoted.status_code == 422
    assert "último admin" in demoted.content.decode() or "last admin" in demoted.content.decode()

    outsider = client.post(TEAM_UPDATE, {"team": org.team_a.pk, "name": "Time Enterprise", "leader": org.leader_b.pk})
    assert outsider.status_code == 422
    org.team_a.refresh_from_db()
    assert org.team_a.leader == org.leader_a

    nameless = client.post(TEAM_CREATE, {"name": ""})
    assert nameless.status_code == 422
    assert Team.objects.count() == 2


def test_an_admin_moves_deactivates_and_the_page_lists_the_customers_needing_an_owner(org, client_for):
    customer = CustomerFactory(owner=org.csm_a2, name="Farmácias Vida Nova")
    client = client_for(org.admin)

    moved = client.post(PERSON_UPDATE, {"person": org.csm_a.pk, "role": Role.FARMER, "team": org.team_b.pk})
    assert moved.status_code == 302
    org.csm_a.refresh_from_db()
    assert (org.csm_a.role, org.csm_a.team) == (Role.FARMER, org.team_b)

    off = client.post(PERSON_ACTIVE, {"person": org.csm_a2.pk, "active": ""})
    assert off.status_code == 302
    page = client.get(PAGE)
    assert [c.pk for c in page.context["needing_owner"]] == [customer.pk]
    html = page.content.decode()
    assert "Farmácias Vida Nova" in html
    assert "Beatriz Santos" in html
    # the leader of the team sees it too
    assert [c.pk for c in client_for(org.leader_a).get(PAGE).context["needing_owner"]] == [customer.pk]

    on = client.post(PERSON_ACTIVE, {"person": org.csm_a2.pk, "active": "1"})
    assert on.status_code == 302
    org.csm_a2.refresh_from_db()
    assert org.csm_a2.is_active
    assert SettingChange.objects.filter(area="people").count() == 3


def test_a_team_led_before_the_rule_can_still_be_renamed(org):
    # given a team whose leader, set before the rule, is in another team
    Team.objects.filter(pk=org.team_b.pk).update(leader=org.leader_a)

    services.team_update(team=org.team_b, name="Time SMB Sul", leader=org.leader_a, actor=org.admin)

    org.team_b.refresh_from_db()
    assert (org.team_b.name, org.team_b.leader) == ("Time SMB Sul", org.leader_a)
    # but choosing such a leader anew is refused
    with pytest.raises(ValidationError):
        services.team_update(team=org.team_b, name="Time SMB Sul", leader=org.ism_a, actor=org.admin)
