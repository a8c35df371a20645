"""The Settings API of teams and people, and the history of every Settings change. Admins change teams and people
through the Settings page's services (the last admin keeps the role, a leader leads their own team), a leader
reads their teams' people (another team's is a 404), others are refused; each change is in the history as the
page records it."""

import pytest
from django.urls import reverse

from accounts import people_services as services
from accounts.models import Role, SettingChange, Team
from portfolio import settings_services
from portfolio.models import ChurnReason
from tests.settings_area.test_api_journey import EN, last_change, recorded

pytestmark = pytest.mark.django_db

API = "/api/v1/settings"


# --- Teams ---------------------------------------------------------------------------------------------------------


def test_an_admin_creates_renames_and_chooses_a_leader_each_in_the_history(org, api_for):
    api = api_for(org.admin)

    created = api.post(f"{API}/teams/", {"name": "Time Mid-market"}, format="json")
    renamed = api.patch(f"{API}/teams/{org.team_a.pk}/", {"name": "Time Enterprise Sul"}, format="json")
    unled = api.patch(f"{API}/teams/{org.team_a.pk}/", {"leader": None}, format="json")

    assert (created.status_code, created.json()["people"]) == (201, 0)
    assert renamed.json()["name"] == "Time Enterprise Sul"
    assert renamed.json()["leader"] == org.leader_a.pk
    assert unled.json()["leader"] is None
    assert [(c.subject, c.changes[0]["field"]) for c in SettingChange.objects.filter(area="people").order_by("pk")] == [
        ("Time Mid-market", "team"),
        ("Time Enterprise Sul", "name"),
        ("Time Enterprise Sul", "leader"),
    ]


def test_a_leader_from_another_team_is_a_field_error_in_the_requesters_language(org, api_for):
    answer = api_for(org.admin).patch(f"{API}/teams/{org.team_a.pk}/", {"leader": org.leader_b.pk}, format="json", **EN)

    assert answer.status_code == 400
    assert answer.json() == {
        "leader": ["A team's leader must be an active person with the Leader role who belongs to the team."]
    }
    assert Team.objects.get(pk=org.team_a.pk).leader == org.leader_a


def test_a_team_name_taken_is_a_field_error(org, api_for):
    answer = api_for(org.admin).post(f"{API}/teams/", {"name": "time smb"}, format="json", **EN)

    assert answer.status_code == 400
    assert answer.json() == {"name": ["Another team already has this name."]}


def test_a_leader_reads_their_teams_and_changes_none(org, api_for):
    api = api_for(org.leader_a)

    listed = api.get(f"{API}/teams/")

    assert [row["id"] for row in listed.json()["results"]] == [org.team_a.pk]
    assert api.get(f"{API}/teams/{org.team_b.pk}/").status_code == 404
    assert api.patch(f"{API}/teams/{org.team_a.pk}/", {"name": "Meu time"}, format="json").status_code == 403
    assert api.post(f"{API}/teams/", {"name": "Time Novo"}, format="json").status_code == 403
    assert api_for(org.csm_a).get(f"{API}/teams/").status_code == 403
    assert not Team.objects.filter(name__in=["Meu time", "Time Novo"]).exists()


# --- People --------------------------------------------------------------------------------------------------------


def test_an_admin_moves_a_person_and_the_history_records_it_as_the_page_does(org, api_for, client_for):
    # given a move made on the page, then undone
    page = {"person": org.csm_a.pk, "role": Role.FARMER, "team": org.team_b.pk}
    assert client_for(org.admin).post(reverse("people_settings:person_update"), page).status_code == 302
    on_the_page = recorded(last_change())
    services.person_update(person=org.csm_a, role=Role.CSM, team=org.team_a, actor=org.admin)

    # when the API makes the same move
    answer = api_for(org.admin).patch(
        f"{API}/people/{org.csm_a.pk}/", {"role": Role.FARMER, "team": org.team_b.pk}, format="json"
    )

    # then it is saved, with the page's history line
    assert answer.status_code == 200
    assert (answer.json()["role"], answer.json()["team_name"]) == (Role.FARMER, "Time SMB")
    assert recorded(last_change()) == on_the_page


def test_the_last_admin_keeps_the_role_and_stays_active(org, api_for):
    api = api_for(org.admin)
    org.admin.__class__.objects.filter(role=Role.ADMIN).exclude(pk=org.admin.pk).update(is_active=False)

    demoted = api.patch(f"{API}/people/{org.admin.pk}/", {"role": Role.CSM}, format="json", **EN)
    itself = api.post(f"{API}/people/{org.admin.pk}/deactivate/", **EN)

    assert demoted.status_code == 400
    assert demoted.json()["role"][0].endswith("is the last admin: make someone else an admin first.")
    assert itself.status_code == 400
    assert itself.json() == {"non_field_errors": ["You cannot deactivate yourself: ask another admin."]}
    org.admin.refresh_from_db()
    assert (org.admin.role, org.admin.is_active) == (Role.ADMIN, True)


def test_an_admin_deactivates_and_reactivates_a_person_each_in_the_history(org, api_for):
    api = api_for(org.admin)

    off = api.post(f"{API}/people/{org.csm_a2.pk}/deactivate/")
    on = api.post(f"{API}/people/{org.csm_a2.pk}/reactivate/")

    assert (off.status_code, off.json()["is_active"]) == (200, False)
    assert on.json()["is_active"] is True
    lines = [c.changes for c in SettingChange.objects.filter(area="people").order_by("pk")]
    assert lines == [
        [{"field": "active", "before": "yes", "after": "no", "effect": ""}],
        [{"field": "active", "before": "no", "after": "yes", "effect": ""}],
    ]


def test_a_leader_reads_their_teams_people_another_teams_are_404_and_writes_are_refused(org, api_for):
    api = api_for(org.leader_a)

    listed = api.get(f"{API}/people/")

    emails = {row["email"] for row in listed.json()["results"]}
    assert org.csm_a.email in emails
    assert org.csm_b.email not in emails
    assert api.get(f"{API}/people/{org.csm_b.pk}/").status_code == 404
    assert api.post(f"{API}/people/{org.csm_b.pk}/deactivate/").status_code == 404
    assert api.post(f"{API}/people/{org.csm_a.pk}/deactivate/").status_code == 403
    assert api.patch(f"{API}/people/{org.csm_a.pk}/", {"role": Role.VIEWER}, format="json").status_code == 403
    assert api_for(org.viewer_a).get(f"{API}/people/").status_code == 403
    org.csm_a.refresh_from_db()
    assert (org.csm_a.is_active, org.csm_a.role) == (True, Role.CSM)


# --- The history ---------------------------------------------------------------------------------------------------


def test_the_history_pages_newest_first_and_filters_by_area(org, api_for):
    reason = ChurnReason.objects.get(code="seasonal")
    settings_services.churn_reason_retire(reason=reason, actor=org.admin)
    services.team_create(name="Time Novo", actor=org.admin)
    api = api_for(org.leader_a)

    everything = api.get(f"{API}/history/", **EN).json()
    people = api.get(f"{API}/history/", {"area": "people"}, **EN).json()

    assert everything["count"] == 2
    assert [row["area"] for row in everything["results"]] == ["people", "churn_reasons"]
    assert everything["results"][1]["changes"][0]["field"] == "Offered in new churn requests"
    assert everything["results"][1]["actor_name"] == org.admin.full_name
    assert [row["subject"] for row in people["results"]] == ["Time Novo"]
    assert api.get(f"{API}/history/", {"area": "nowhere"}).status_code == 400


def test_the_history_speaks_the_requesters_language(org, api_for):
    settings_services.churn_reason_retire(reason=ChurnReason.objects.get(code="seasonal"), actor=org.admin)

    portuguese = api_for(org.leader_a).get(f"{API}/history/").json()["results"][0]

    assert portuguese["changes"][0]["field"] == "Oferecido em novos pedidos de churn"
    assert portuguese["changes"][0]["after"] == "não"


def test_only_admins_and_leaders_read_the_history(org, api_for):
    for person in (org.csm_a, org.ism_a, org.viewer_a):
        assert api_for(person).get(f"{API}/history/").status_code == 403
