"""The default playbooks Leme ships: installed once, in the workspace's language, and working."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from core import clock
from core.events import publish
from health.events import HealthBandChanged
from playbooks import engine, services
from playbooks.defaults import TAKEN_OVER, default_playbooks, install_defaults, take_over_builtins
from playbooks.models import Playbook, PlaybookStatus, PlaybookVersion, Run
from playbooks.subscribers import playbooks_on_detractor
from portfolio import services as portfolio_services
from portfolio.models import Task
from surveys import answers
from surveys.events import DetractorAnswered
from surveys.models import Response
from tests.portfolio.factories import ContactFactory, CustomerFactory

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


# --- The detractor call-back and the UTI plan are default playbooks -------------------------------------------


def _detractor_answer(org, committed, *, score=3, comment="Suporte demorou", contact=None):
    """A detractor's NPS answer at a customer of csm_a, recorded through the public page's service."""
    from tests.surveys.test_answers import make_campaign, make_delivery

    contact = contact or ContactFactory(customer=CustomerFactory(owner=org.csm_a), name="Ana Souza")
    delivery, _ = make_delivery(make_campaign("nps"), contact=contact)
    with committed():
        return answers.answer_record(delivery=delivery, score=score, comment=comment, now=clock.now())


def test_the_detractor_playbook_calls_back_then_asks_the_leader_while_the_loop_stays_open(org, defaults, committed):
    # given a detractor answer on Monday
    with clock.at(MONDAY):
        response = _detractor_answer(org, committed)
    customer = response.customer
    follow_up = Task.objects.get(customer=customer, origin="playbook")
    assert (follow_up.owner, follow_up.due_date) == (org.csm_a, date(2026, 3, 4))
    assert follow_up.title == f"Ligar para Ana Souza ({customer.name}): NPS 3, detrator"
    response.refresh_from_db()
    assert response.follow_up_task_id == follow_up.pk

    # when a week passes and nobody talked to Ana
    with clock.at(MONDAY + timedelta(days=7)):
        engine.runs_advance_due()

    # then the leader gets a task, and the run is over
    leader_task = Task.objects.get(customer=customer, origin="playbook", owner=org.leader_a)
    assert "segue aberto" in leader_task.title
    assert Run.objects.get(customer=customer).status == "completed"


def test_a_closed_loop_ends_the_detractor_playbook_without_the_leader(org, defaults, committed):
    with clock.at(MONDAY):
        response = _detractor_answer(org, committed)
    contact = response.delivery.contact
    with clock.at(MONDAY + timedelta(days=1)), committed():
        portfolio_services.activity_log(
            customer=response.customer, kind="call", title="Liguei para a Ana", author=org.csm_a, contact=contact
        )
    with clock.at(MONDAY + timedelta(days=7)):
        engine.runs_advance_due()

    statuses = list(Task.objects.filter(customer=response.customer).values_list("owner", "status"))
    assert statuses == [(org.csm_a.pk, "done")]
    assert Run.objects.get(customer=response.customer).exit_reason == "a condição deixou de valer"


def test_a_team_that_pauses_the_detractor_playbook_gets_no_task(org, defaults, committed):
    services.playbook_pause(playbook=defaults["detractor-recovery"], actor=org.admin)

    response = _detractor_answer(org, committed)

    assert not Task.objects.filter(customer=response.customer).exists()
    response.refresh_from_db()
    assert response.follow_up_task_id is None


def test_a_second_detractor_at_a_customer_already_in_the_play_adds_no_second_task(org, defaults, committed):
    first = _detractor_answer(org, committed)
    bruno = ContactFactory(customer=first.customer, name="Bruno Lima")

    second = _detractor_answer(org, committed, contact=bruno)

    assert Task.objects.filter(customer=first.customer, origin="playbook").count() == 1
    second.refresh_from_db()
    assert second.follow_up_task_id is None


def test_a_save_on_a_customer_without_csm_gives_the_uti_plan_to_whoever_recorded_it(org, defaults, committed):
    from tests.portfolio.test_services import open_churn_on

    # given a customer nobody owns yet, asked to cancel; an admin records the save, dated 20 February
    customer = CustomerFactory(owner=None, implementation_manager=None)
    with clock.at(MONDAY):
        request = open_churn_on(customer, org.admin, requested_on=date(2026, 2, 18))
        with committed():
            stay = portfolio_services.churn_request_resolve(
                churn_request=request, outcome="recovered", actor=org.admin, effective_date=date(2026, 2, 20)
            )

    # then the check-ins, dated from the save, and the closing review go to the admin
    tasks = list(Task.objects.filter(customer=customer).order_by("due_date").values_list("owner", "due_date"))
    assert tasks == [
        (org.admin.pk, date(2026, 2, 27)),
        (org.admin.pk, date(2026, 3, 6)),
        (org.admin.pk, date(2026, 3, 13)),
        (org.admin.pk, date(2026, 3, 22)),
    ]
    assert Run.objects.get(customer=customer).trigger_key == f"uti:{stay.pk}"


def test_defaults_installed_inactive_take_over_once_and_an_edited_one_is_left_alone(org):
    # given the defaults as an earlier Leme installed them: the detractor and UTI plays inactive
    Playbook.objects.filter(key__isnull=False).delete()
    install_defaults(Playbook, PlaybookVersion, clock.now())
    Playbook.objects.filter(key__in=TAKEN_OVER).update(status=PlaybookStatus.DRAFT)
    uti = Playbook.objects.get(key="uti-recovery-month")
    services.step_add(playbook=uti, actor=org.admin, step={"kind": "wait", "days": 3})  # a team's own draft

    # when the migration takes them over (twice: nothing more the second time)
    assert take_over_builtins(Playbook, PlaybookVersion, clock.now()) == 1
    assert take_over_builtins(Playbook, PlaybookVersion, clock.now()) == 0

    # then the untouched one is active on a new published version, the edited one as the team left it
    detractor = Playbook.objects.select_related("live_version").get(key="detractor-recovery")
    assert (detractor.status, detractor.live_version.number, detractor.cooldown_days) == ("active", 2, 0)
    assert detractor.live_version.steps[0]["due_from"] == "trigger"
    uti.refresh_from_db()
    assert uti.status == PlaybookStatus.DRAFT


def test_the_page_of_a_default_says_what_switching_it_off_does(org, client_for, defaults):
    from django.urls import reverse

    page = client_for(org.leader_a).get(reverse("playbooks:detail", args=[defaults["detractor-recovery"].pk]))

    html = page.content.decode()
    assert 'id="replaces-builtin"' in html
    assert "respostas de detratores não criam tarefa" in html


def _event(response_id=1, customer_id=1):
    return DetractorAnswered(
        response_id=response_id,
        campaign_id=1,
        kind="nps",
        score=2,
        customer_id=customer_id,
        contact_id=None,
        answered_on=date(2026, 3, 2),
    )


def test_an_answer_no_playbook_listens_to_costs_one_query(org, defaults, django_assert_num_queries):
    # demo seeding and many tests record answers: with the detractor play paused, the subscriber only looks
    services.playbook_pause(playbook=defaults["detractor-recovery"], actor=org.admin)

    with django_assert_num_queries(1):
        playbooks_on_detractor(_event())


def test_the_detractor_call_back_costs_a_bounded_number_of_queries(
    org, defaults, committed, django_assert_max_num_queries
):
    with clock.at(MONDAY):
        response = _detractor_answer(org, committed)
    Run.objects.all().delete()
    Task.objects.all().delete()
    Response.objects.filter(pk=response.pk).update(follow_up_task_id=None)

    with clock.at(MONDAY), django_assert_max_num_queries(27):
        playbooks_on_detractor(_event(response.pk, response.customer_id))

    assert Task.objects.filter(customer=response.customer).count() == 1
