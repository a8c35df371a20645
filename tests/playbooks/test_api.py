"""The playbooks API: playbooks (company-wide and the caller's teams') and runs on the customers the caller
sees (the door), read-only, described in the schema."""

import pytest

from playbooks import services
from playbooks.models import Run
from tests.playbooks.factories import live_playbook, task_step
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plays(org):
    """A company-wide playbook, one of team A's and one of team B's, each started on a customer of its team."""
    everyone = live_playbook(name="Boas-vindas", steps=[{"kind": "wait", "days": 7}, task_step("Ligar")])
    team_a = live_playbook(name="Resgate A", team=org.team_a)
    team_b = live_playbook(name="Resgate B", team=org.team_b)
    ours, theirs = CustomerFactory(owner=org.csm_a), CustomerFactory(owner=org.csm_b)
    runs = {
        "run_everyone": services.run_start(playbook=everyone, customer=ours, actor=org.csm_a),
        "run_a": services.run_start(playbook=team_a, customer=ours, actor=org.csm_a),
        "run_b": services.run_start(playbook=team_b, customer=theirs, actor=org.csm_b),
    }
    return {"everyone": everyone, "team_a": team_a, "team_b": team_b, "ours": ours, "theirs": theirs, **runs}


def test_playbooks_list_the_company_wide_and_the_callers_teams_with_their_live_version(org, api_for, plays):
    answer = api_for(org.csm_a).get("/api/v1/playbooks/")

    assert answer.status_code == 200
    rows = {row["name"]: row for row in answer.json()["results"]}
    assert set(rows) == {"Boas-vindas", "Resgate A"}
    welcome = rows["Boas-vindas"]
    assert (welcome["status"], welcome["team"], welcome["cooldown_days"]) == ("active", None, 30)
    assert welcome["live_version"]["number"] == 1
    assert [step["kind"] for step in welcome["live_version"]["steps"]] == ["wait", "task"]
    assert api_for(org.csm_a).get(f"/api/v1/playbooks/{plays['team_b'].pk}/").status_code == 404


def test_a_customers_runs_with_their_next_step_and_another_teams_are_not_there(org, api_for, plays):
    api = api_for(org.csm_a)

    ours = api.get("/api/v1/playbook-runs/", {"customer": plays["ours"].pk}).json()["results"]
    theirs = api.get("/api/v1/playbook-runs/", {"customer": plays["theirs"].pk}).json()["results"]

    assert {(r["playbook_name"], r["status"], r["version"]) for r in ours} == {
        ("Boas-vindas", "active", 1),
        ("Resgate A", "completed", 1),
    }
    welcome = next(r for r in ours if r["playbook_name"] == "Boas-vindas")
    assert welcome["next_step"].endswith("“Ligar”, prazo de 2 dias úteis")
    assert next(r for r in ours if r["playbook_name"] == "Resgate A")["next_step"] == ""
    assert theirs == []
    assert api.get(f"/api/v1/playbook-runs/{plays['run_b'].pk}/").status_code == 404
    leader_b = api_for(org.leader_b).get("/api/v1/playbook-runs/").json()["results"]
    assert [r["id"] for r in leader_b] == [plays["run_b"].pk]


def test_runs_list_in_a_fixed_number_of_queries(org, api_for, plays, django_assert_max_num_queries):
    api = api_for(org.admin)
    with django_assert_max_num_queries(8):
        small = api.get("/api/v1/playbook-runs/").json()
    for _ in range(5):
        services.run_start(playbook=plays["everyone"], customer=CustomerFactory(owner=org.csm_a), actor=org.admin)
    with django_assert_max_num_queries(8):
        bigger = api.get("/api/v1/playbook-runs/").json()
    assert (small["count"], bigger["count"]) == (3, 8)
    assert Run.objects.count() == 8


def test_the_schema_describes_both_endpoints(org, api_for):
    schema = api_for(org.admin).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    assert {"/api/v1/playbooks/", "/api/v1/playbook-runs/", "/api/v1/playbook-runs/{id}/"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/playbook-runs/"]["get"]["parameters"]}
    assert {"customer", "playbook", "status"} <= parameters
