"""The playbook pages: who reads and who edits (the door), the htmx step editor with its 422, publishing,
the preview without side effects, starting by hand (one customer, a selection) and the run's links."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import clock
from playbooks import services
from playbooks.models import Playbook, PlaybookStatus, Run, RunStep
from portfolio import services as portfolio_services
from portfolio.models import Task
from tests.playbooks.factories import live_playbook, task_step
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_everyone_reads_company_wide_and_own_team_playbooks_and_another_teams_is_404(org, client_for):
    company = live_playbook(name="Renovação")
    ours = live_playbook(name="Resgate A", team=org.team_a)
    theirs = live_playbook(name="Resgate B", team=org.team_b)

    page = client_for(org.csm_a).get(reverse("playbooks:list"))
    assert page.status_code == 200
    assert {r.playbook for r in page.context["page"].rows} == {company, ours}

    leader = client_for(org.leader_a)
    assert leader.get(reverse("playbooks:detail", args=[ours.pk])).status_code == 200
    assert leader.get(reverse("playbooks:detail", args=[theirs.pk])).status_code == 404
    assert leader.post(reverse("playbooks:pause", args=[theirs.pk])).status_code == 404


def test_a_csm_reads_but_cannot_edit_and_a_leader_cannot_edit_company_wide_ones(org, client_for):
    ours = live_playbook(team=org.team_a)
    company = live_playbook(name="Da empresa")
    csm = client_for(org.csm_a)
    detail = csm.get(reverse("playbooks:detail", args=[ours.pk]))
    assert detail.status_code == 200
    assert b'id="editor"' not in detail.content
    assert csm.post(reverse("playbooks:step_add", args=[ours.pk]), {"kind": "wait", "wait-days": 3}).status_code == 403
    assert csm.post(reverse("playbooks:publish", args=[ours.pk])).status_code == 403
    assert client_for(org.leader_a).post(reverse("playbooks:pause", args=[company.pk])).status_code == 403
    assert client_for(org.admin).post(reverse("playbooks:pause", args=[company.pk])).status_code == 302


def test_the_step_editor_answers_422_with_the_error_then_adds_the_step_to_a_new_draft(org, client_for):
    # given a published playbook of team A
    playbook = live_playbook(team=org.team_a, steps=[task_step("Primeira")])
    leader = client_for(org.leader_a)
    url = reverse("playbooks:step_add", args=[playbook.pk])

    # when the leader submits an empty task step through htmx
    empty = leader.post(url, {"kind": "task", "task-title": "", "task-due_days": ""}, HTTP_HX_REQUEST="true")

    # then the editor comes back with the error, and nothing changed
    assert empty.status_code == 422
    assert b'id="editor"' in empty.content
    assert "errorlist" in empty.content.decode()
    assert playbook.versions.count() == 1

    # when it is filled in
    added = leader.post(
        url,
        {"kind": "task", "task-title": "Ligar para o CFO", "task-assignee": "leader", "task-due_days": "3"},
        HTTP_HX_REQUEST="true",
    )
    assert added.status_code == 200
    draft = playbook.versions.get(published_at__isnull=True)
    assert (draft.number, [s["title"] for s in draft.steps]) == (2, ["Primeira", "Ligar para o CFO"])
    assert "Ligar para o CFO" in added.content.decode()

    # and moved up, then published
    leader.post(reverse("playbooks:step_move", args=[playbook.pk, 1]), {"direction": "up"}, HTTP_HX_REQUEST="true")
    assert leader.post(reverse("playbooks:publish", args=[playbook.pk])).status_code == 302
    playbook.refresh_from_db()
    assert [s["title"] for s in playbook.live_version.steps] == ["Ligar para o CFO", "Primeira"]


def test_settings_need_the_trigger_parameter(org, client_for):
    playbook = live_playbook(team=org.team_a)
    response = client_for(org.leader_a).post(
        reverse("playbooks:settings", args=[playbook.pk]),
        {"name": "Resgate", "trigger_kind": "renewal_in", "cooldown_days": 30},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "errorlist" in response.content.decode()


def test_the_preview_shows_the_tasks_and_creates_nothing(org, client_for):
    playbook = live_playbook(team=org.team_a, steps=[task_step("Kickoff", due_days=2), {"kind": "wait", "days": 7}])
    customer = CustomerFactory(owner=org.csm_a)
    before = (Run.objects.count(), RunStep.objects.count(), Task.objects.count())
    response = client_for(org.leader_a).get(reverse("playbooks:preview", args=[playbook.pk]), {"customer": customer.pk})
    assert response.status_code == 200
    planned = response.context["preview"].planned
    assert (planned[0].assignee, planned[0].kind) == (org.csm_a, "task")
    assert "Kickoff" in response.content.decode()
    assert (Run.objects.count(), RunStep.objects.count(), Task.objects.count()) == before


def test_the_preview_of_another_teams_customer_is_404(org, client_for):
    playbook = live_playbook()
    theirs = CustomerFactory(owner=org.csm_b)
    response = client_for(org.csm_a).get(reverse("playbooks:preview", args=[playbook.pk]), {"customer": theirs.pk})
    assert response.status_code == 404


def test_starting_by_hand_shows_the_run_on_the_customer_page_and_the_task_links_to_it(org, client_for):
    playbook = live_playbook(team=org.team_a, steps=[task_step("Ligar hoje", due_days=0), {"kind": "wait", "days": 5}])
    customer = CustomerFactory(owner=org.csm_a)
    csm = client_for(org.csm_a)
    response = csm.post(reverse("playbooks:start", args=[customer.pk]), {"playbook": playbook.pk})
    assert response.status_code == 302
    run = Run.objects.get(customer=customer)
    page = csm.get(reverse("portfolio:customer", args=[customer.pk])).content.decode()
    run_url = reverse("playbooks:run", args=[run.pk])
    assert 'id="playbook-runs"' in page
    assert run_url in page  # the panel, and the task's origin
    day = csm.get(reverse("home")).content.decode()
    assert "Ligar hoje" in day
    assert run_url in day
    assert csm.get(run_url).status_code == 200


def test_starting_twice_says_why_not(org, client_for):
    playbook = live_playbook(steps=[task_step(), {"kind": "wait", "days": 5}])
    customer = CustomerFactory(owner=org.csm_a)
    csm = client_for(org.csm_a)
    csm.post(reverse("playbooks:start", args=[customer.pk]), {"playbook": playbook.pk})
    again = csm.post(reverse("playbooks:start", args=[customer.pk]), {"playbook": playbook.pk}, follow=True)
    assert "already in this playbook" in again.content.decode() or "já está" in again.content.decode()
    assert Run.objects.count() == 1


def test_bulk_start_from_the_portfolio_list_skips_customers_outside_the_audience(org, client_for):
    playbook = live_playbook(service_models=["high"], steps=[task_step(), {"kind": "wait", "days": 5}])
    high = CustomerFactory(owner=org.csm_a, service_model="high")
    tech = CustomerFactory(owner=org.csm_a, service_model="tech")
    theirs = CustomerFactory(owner=org.csm_b, service_model="high")
    leader = client_for(org.leader_a)
    listing = leader.get(reverse("portfolio:list")).content.decode()
    assert reverse("playbooks:start_bulk") in listing
    response = leader.post(
        reverse("playbooks:start_bulk"), {"playbook": playbook.pk, "customers": [high.pk, tech.pk, theirs.pk]}
    )
    assert response.status_code == 302
    assert list(Run.objects.values_list("customer", flat=True)) == [high.pk]


def test_the_list_reads_in_a_fixed_number_of_queries(org, client_for, django_assert_max_num_queries):
    for n in range(3):
        playbook = live_playbook(name=f"P{n}", steps=[task_step(), {"kind": "wait", "days": 5}])
        for customer in CustomerFactory.create_batch(2, owner=org.csm_a):
            portfolio_services.task_create(customer=customer, owner=org.csm_a, title="x", due_date=customer.start_date)
            Run.objects.create(playbook=playbook, version=playbook.live_version, customer=customer)
    client = client_for(org.leader_a)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("playbooks:list")).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("playbooks:detail", args=[playbook.pk])).status_code == 200


def test_pause_and_resume_from_the_page(org, client_for):
    playbook = live_playbook(team=org.team_a)
    leader = client_for(org.leader_a)
    leader.post(reverse("playbooks:pause", args=[playbook.pk]))
    assert Playbook.objects.get(pk=playbook.pk).status == PlaybookStatus.PAUSED
    leader.post(reverse("playbooks:resume", args=[playbook.pk]))
    assert Playbook.objects.get(pk=playbook.pk).status == PlaybookStatus.ACTIVE


def test_the_playbook_page_says_who_is_behind_on_a_run(org, client_for):
    playbook = live_playbook(team=org.team_a, steps=[task_step("Ligar", due_days=0), {"kind": "wait", "days": 30}])
    customer = CustomerFactory(owner=org.csm_a2, name="Padaria Aurora")
    with clock.at(timezone.now() - timedelta(days=10)):
        services.run_start(playbook=playbook, customer=customer, actor=org.leader_a)
    page = client_for(org.leader_a).get(reverse("playbooks:detail", args=[playbook.pk]))
    row = page.context["page"].runs[0]
    assert row.behind == [org.csm_a2.full_name]
    assert "Padaria Aurora" in page.content.decode()


def test_the_list_counts_each_playbooks_open_runs_of_the_customers_the_person_sees(
    org, client_for, django_assert_num_queries
):
    # given two playbooks; the first with open runs (active, paused) for Lucas's, Beatriz's and a team B
    # customer, a customer with no owner whose ISM is in team A, and a finished run of another of Lucas's
    first = live_playbook(name="A primeira", steps=[task_step(), {"kind": "wait", "days": 5}])
    second = live_playbook(name="B segunda", steps=[task_step(), {"kind": "wait", "days": 5}])
    lucas = CustomerFactory(owner=org.csm_a)
    beatriz = CustomerFactory(owner=org.csm_a2)
    team_b = CustomerFactory(owner=org.csm_b)
    unowned = CustomerFactory(owner=None, implementation_manager=org.ism_a)
    done = CustomerFactory(owner=org.csm_a)
    for customer, status in [(lucas, "active"), (beatriz, "paused"), (team_b, "active"), (unowned, "active")]:
        Run.objects.create(playbook=first, version=first.live_version, customer=customer, status=status)
    Run.objects.create(playbook=first, version=first.live_version, customer=done, status="completed")
    Run.objects.create(playbook=second, version=second.live_version, customer=team_b, status="exited")

    def counts(user) -> dict[str, int]:
        client = client_for(user)
        client.get(reverse("playbooks:list"))  # the session's first read
        # the session, the user, the playbooks with their counts; and, for a leader or a team's viewer, their teams'
        # people (read once for the request) and whether their door lets them through to every customer (the people
        # outside their teams, a customer outside it)
        with django_assert_num_queries(3 if user.is_admin or user.role not in ("leader", "viewer") else 6):
            rows = client.get(reverse("playbooks:list")).context["page"].rows
        return {row.playbook.name: row.active_runs for row in rows}

    # then each counts the open runs of the customers they see, none of the finished ones
    assert counts(org.csm_a) == {"A primeira": 1, "B segunda": 0}
    assert counts(org.leader_a) == {"A primeira": 3, "B segunda": 0}  # Lucas's, Beatriz's, the unowned one's
    assert counts(org.leader_b) == {"A primeira": 1, "B segunda": 0}
    assert counts(org.admin) == {"A primeira": 4, "B segunda": 0}
    assert counts(org.ism_a) == {"A primeira": 1, "B segunda": 0}
