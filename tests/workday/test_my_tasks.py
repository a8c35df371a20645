"""My tasks: every open task grouped overdue / today / this week / later, the filters, the done tab, a leader's
team by person; snoozing and handing over a task, and who may."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core import clock
from portfolio import selectors, services
from portfolio.models import Task
from tests.portfolio.factories import CustomerFactory, hand_off

pytestmark = pytest.mark.django_db

# A Wednesday: "this week" runs from Thursday 3 to Sunday 6 December.
WEDNESDAY = datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("America/Sao_Paulo"))
TODAY = WEDNESDAY.date()


@pytest.fixture(autouse=True)
def on_wednesday():
    with clock.at(WEDNESDAY):
        yield


def customer_of(csm, name="Padaria Pão Dourado"):
    customer = CustomerFactory(name=name)
    hand_off(customer, csm)
    return customer


def task(customer, owner, title, due: date, **kwargs) -> Task:
    return services.task_create(customer=customer, owner=owner, title=title, due_date=due, **kwargs)


@pytest.fixture
def week(org):
    """Lucas's tasks on every kind of day, one done, and a colleague's on the same customer."""
    padaria = customer_of(org.csm_a)
    clinica = customer_of(org.csm_a, "Clínica Bem Viver")
    tasks = {
        "overdue": task(padaria, org.csm_a, "Ligar sobre a fatura", TODAY - timedelta(days=3), origin="delinquency"),
        "today": task(clinica, org.csm_a, "Enviar proposta", TODAY),
        "week": task(padaria, org.csm_a, "Preparar revisão", date(2026, 12, 6)),
        "later": task(clinica, org.csm_a, "Checar adoção", date(2026, 12, 7)),
        "done": task(padaria, org.csm_a, "Agradecer a indicação", TODAY - timedelta(days=1)),
        "colleague": task(padaria, org.csm_a2, "Treinar a equipe nova", TODAY),
    }
    services.task_complete(task=tasks["done"], actor=org.csm_a)
    return tasks


def titles(page) -> dict[str, list[str]]:
    return {group.key: [t.title for t in group.tasks] for group in page.groups}


def test_open_tasks_are_grouped_by_when_they_are_due(org, week):
    page = selectors.my_tasks_page(org.csm_a, selectors.TaskFilters())

    assert titles(page) == {
        "overdue": ["Ligar sobre a fatura"],
        "today": ["Enviar proposta"],
        "week": ["Preparar revisão"],
        "later": ["Checar adoção"],
    }
    assert page.counts == {"overdue": 1, "today": 1, "week": 1, "later": 1}
    assert not page.team


def test_the_filters_customer_origin_and_due_range(org, week):
    def only(**filters):
        page = selectors.my_tasks_page(org.csm_a, selectors.TaskFilters(**filters))
        return sorted(t.title for group in page.groups for t in group.tasks)

    assert only(customer="clinica bem") == ["Checar adoção", "Enviar proposta"]
    assert only(origin="delinquency") == ["Ligar sobre a fatura"]
    assert only(due_from=TODAY, due_to=date(2026, 12, 6)) == ["Enviar proposta", "Preparar revisão"]
    assert only(q="revisao") == ["Preparar revisão"]


def test_done_tasks_are_kept_on_their_tab_and_searchable(org, week):
    done = selectors.my_tasks_page(org.csm_a, selectors.TaskFilters(tab="done"))
    searched = selectors.my_tasks_page(org.csm_a, selectors.TaskFilters(tab="done", q="indicacao"))
    missed = selectors.my_tasks_page(org.csm_a, selectors.TaskFilters(tab="done", q="fatura"))

    assert titles(done) == {"": ["Agradecer a indicação"]}
    assert titles(searched) == {"": ["Agradecer a indicação"]}
    assert titles(missed) == {}


def test_a_leader_sees_the_team_by_person_and_a_csm_only_their_own(org, week):
    team = selectors.my_tasks_page(org.leader_a, selectors.TaskFilters(person="team"))
    beatriz = selectors.my_tasks_page(org.leader_a, selectors.TaskFilters(person=str(org.csm_a2.pk)))
    # a CSM asking for a colleague's tasks gets their own: the person is not among those they may list
    csm = selectors.my_tasks_page(org.csm_a, selectors.TaskFilters(person=str(org.csm_a2.pk)))
    own = selectors.my_tasks_page(org.leader_a, selectors.TaskFilters())

    assert team.team
    assert team.counts == {"overdue": 1, "today": 2, "week": 1, "later": 1}
    assert titles(beatriz) == {"today": ["Treinar a equipe nova"]}
    assert "Treinar a equipe nova" not in str(titles(csm))
    assert titles(own) == {}
    # another team's leader sees none of it
    assert selectors.my_tasks_page(org.leader_b, selectors.TaskFilters(person="team")).open_count == 0


# --- Snoozing and handing over ---------------------------------------------------------------------------


def test_snooze_one_day_from_an_overdue_task_means_tomorrow(org, week):
    overdue, later = week["overdue"], week["later"]

    assert services.snooze_date(overdue, 1) == date(2026, 12, 3)
    assert services.snooze_date(later, 7) == date(2026, 12, 14)

    services.task_snooze(task=overdue, due_date=date(2026, 12, 3), actor=org.csm_a)
    overdue.refresh_from_db()
    assert overdue.due_date == date(2026, 12, 3)


def test_snooze_refuses_a_past_day_a_done_task_and_someone_elses_task(org, week):
    with pytest.raises(ValidationError):
        services.task_snooze(task=week["today"], due_date=TODAY - timedelta(days=1), actor=org.csm_a)
    with pytest.raises(ValidationError):
        services.task_snooze(task=week["done"], due_date=TODAY, actor=org.csm_a)
    # Beatriz's task on Lucas's customer: Lucas sees it, but only she or their leader moves it
    with pytest.raises(PermissionDenied):
        services.task_snooze(task=week["colleague"], due_date=TODAY, actor=org.csm_a)
    with pytest.raises(PermissionDenied):
        services.task_snooze(task=week["today"], due_date=TODAY, actor=org.viewer_a)
    services.task_snooze(task=week["colleague"], due_date=date(2026, 12, 4), actor=org.leader_a)


def test_reassign_only_to_people_the_door_allows_who_see_the_customer(org, week):
    today = week["today"]

    # a CSM hands tasks to nobody else (a CSM sees no colleagues)
    with pytest.raises(ValidationError):
        services.task_reassign(task=today, to=org.csm_a2, actor=org.csm_a)
    # a leader: not to another team's CSM, not to a viewer, not to someone who does not see the customer
    with pytest.raises(ValidationError):
        services.task_reassign(task=today, to=org.csm_b, actor=org.leader_a)
    with pytest.raises(ValidationError):
        services.task_reassign(task=today, to=org.viewer_a, actor=org.leader_a)
    with pytest.raises(ValidationError):
        services.task_reassign(task=today, to=org.csm_a2, actor=org.leader_a)  # Clínica is Lucas's only

    # but to the farmer of the customer, of her team
    clinica = today.customer
    services.customer_update(customer=clinica, actor=org.leader_a, farmer=org.farmer_a)
    services.task_reassign(task=today, to=org.farmer_a, actor=org.leader_a)
    today.refresh_from_db()
    assert today.owner == org.farmer_a


# --- The pages -----------------------------------------------------------------------------------------------


def test_the_page_shows_the_groups_and_the_htmx_filter_its_list(org, week, client_for):
    client = client_for(org.csm_a)

    page = client.get("/tasks/")
    fragment = client.get("/tasks/", {"origin": "delinquency"}, HTTP_HX_REQUEST="true")

    assert page.status_code == 200
    for heading in ("Atrasadas", "Hoje", "Esta semana", "Depois"):
        assert f">{heading}</h2>" in page.text
    assert "Treinar a equipe nova" not in page.text
    assert "<html" not in fragment.text
    assert "Ligar sobre a fatura" in fragment.text
    assert "Enviar proposta" not in fragment.text


def test_snoozing_from_the_page_moves_the_row_to_its_new_group(org, week, client_for):
    client = client_for(org.csm_a)
    overdue = week["overdue"]

    response = client.post(
        f"/tasks/{overdue.pk}/snooze/", {"days": "7", "query": "origin=delinquency"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    overdue.refresh_from_db()
    assert overdue.due_date == date(2026, 12, 9)
    assert 'id="group-later"' in response.text
    assert 'id="group-overdue"' not in response.text
    assert "“Ligar sobre a fatura” movido para 09/12/2026." in response.text


def test_snoozing_without_javascript_goes_back_to_the_list(org, week, client_for):
    response = client_for(org.csm_a).post(
        f"/tasks/{week['today'].pk}/snooze/", {"due_date": "2026-12-10", "next": "/tasks/?tab=open"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/tasks/?tab=open"


def test_bad_snoozes_and_handovers_answer_422_with_the_reason(org, week, client_for):
    client = client_for(org.leader_a)

    past = client.post(f"/tasks/{week['today'].pk}/snooze/", {"due_date": "2026-11-01"}, HTTP_HX_REQUEST="true")
    nothing = client.post(f"/tasks/{week['today'].pk}/snooze/", {}, HTTP_HX_REQUEST="true")
    stranger = client.post(f"/tasks/{week['today'].pk}/reassign/", {"owner": org.csm_b.pk}, HTTP_HX_REQUEST="true")

    assert past.status_code == 422
    assert "Escolha hoje ou um dia depois." in past.text
    assert nothing.status_code == 422
    assert stranger.status_code == 422
    assert "Escolha quem assume a tarefa." in stranger.text


def test_another_teams_task_is_404_for_snooze_and_reassign(org, week, client_for):
    theirs = task(customer_of(org.csm_b, "Mercado do Sertão"), org.csm_b, "Ligar", TODAY)
    client = client_for(org.leader_a)

    assert client.post(f"/tasks/{theirs.pk}/snooze/", {"days": "1"}).status_code == 404
    assert client.post(f"/tasks/{theirs.pk}/reassign/", {"owner": org.csm_a.pk}).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.due_date, theirs.owner) == (TODAY, org.csm_b)


def test_my_tasks_reads_in_a_fixed_number_of_queries(org, client_for, django_assert_max_num_queries):
    customer = customer_of(org.csm_a)
    client = client_for(org.leader_a)

    def count_queries():
        # a leader's page also asks once whether her door lets her through to every customer (two reads)
        with django_assert_max_num_queries(8) as captured:
            client.get("/tasks/", {"person": "team"})
        return len(captured)

    for n in range(3):
        task(customer, org.csm_a, f"Tarefa {n}", TODAY + timedelta(days=n - 1))
    few = count_queries()
    for n in range(40):
        task(customer, org.csm_a, f"Outra {n}", TODAY + timedelta(days=n - 20))
    assert count_queries() == few
    with django_assert_max_num_queries(8):
        client.get("/tasks/", {"tab": "done", "page": "2"})
