"""The default playbooks Leme ships: installed once, in the workspace's language, and working."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from core import clock
from core.events import publish
from health.events import HealthBandChanged
from playbooks import engine, services
from playbooks.defaults import INSTALLED_ACTIVE, TAKEN_OVER, default_playbooks, install_defaults, take_over_builtins
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
    assert active == {
        "renewal-90",
        "back-to-green",
        "detractor-recovery",
        "uti-recovery-month",
        "churn-request",
        "overdue-payment",
    }


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


# --- The churn-request task and the overdue-payment follow-up are default playbooks ---------------------------


def test_a_churn_request_gives_its_csm_a_task_due_that_day_done_when_the_request_is_closed_as_churned(
    org, defaults, committed
):
    from tests.portfolio.test_services import open_churn

    # given a customer of csm_a asking to cancel on Monday
    customer = CustomerFactory(owner=org.csm_a)
    with clock.at(MONDAY), committed():
        request = open_churn(customer, org.csm_a)
    run = Run.objects.get(customer=customer, playbook=defaults["churn-request"])
    task = Task.objects.get(customer=customer)
    assert (run.trigger_key, task.origin_key) == (f"churn_request:{request.pk}", f"playbook:{run.pk}:0")
    assert (task.owner, task.due_date, task.status) == (org.csm_a, date(2026, 3, 2), "open")
    assert task.title == f"Trabalhar o pedido de churn de {customer.name}"

    # when the request is closed on Wednesday: the customer churns
    with clock.at(MONDAY + timedelta(days=2)), committed():
        portfolio_services.churn_request_resolve(churn_request=request, outcome="churned", actor=org.csm_a)

    # then the task was done that day, not cancelled
    task.refresh_from_db()
    assert (task.status, task.completed_at.date()) == ("done", date(2026, 3, 4))
    assert not Run.objects.filter(customer=customer, status__in=["active", "paused"]).exists()


def test_a_churn_request_at_a_customer_nobody_owns_goes_to_its_ism_and_a_team_that_pauses_the_play_gets_none(
    org, defaults, committed
):
    from tests.portfolio.test_services import open_churn

    onboarding = CustomerFactory(owner=None, implementation_manager=org.ism_a)
    with committed():
        open_churn(onboarding, org.ism_a)
    assert list(Task.objects.filter(customer=onboarding).values_list("owner", flat=True)) == [org.ism_a.pk]

    services.playbook_pause(playbook=defaults["churn-request"], actor=org.admin)
    paused = CustomerFactory(owner=org.csm_a)
    with committed():
        open_churn(paused, org.csm_a)
    assert not Task.objects.filter(customer=paused).exists()


def _overdue(customer, *, since, committed, paid_before_the_job=False):
    from tests.portfolio.factories import subscribe

    subscription = subscribe(customer, start=since - timedelta(days=60))
    with committed():
        portfolio_services.subscription_mark_delinquent(subscription=subscription, since=since, actor=None)
        if paid_before_the_job:
            portfolio_services.subscription_mark_paid(subscription=subscription, actor=None)
    return subscription


def test_an_overdue_payment_is_followed_up_the_next_day_while_it_is_still_overdue(org, defaults, committed):
    # given a payment overdue since Saturday, announced on Monday
    customer = CustomerFactory(owner=org.csm_a)
    with clock.at(MONDAY):
        subscription = _overdue(customer, since=date(2026, 2, 28), committed=committed)

    # then the owner follows it up on Tuesday (the next calendar day, as before the playbook)
    run = Run.objects.get(customer=customer, playbook=defaults["overdue-payment"])
    assert (run.trigger_key, run.status) == (f"delinquency:{subscription.pk}:2026-02-28", "completed")
    task = Task.objects.get(customer=customer)
    assert (task.origin_key, task.owner, task.due_date) == (f"playbook:{run.pk}:1", org.csm_a, date(2026, 3, 3))
    assert task.title == f"Acompanhar o pagamento em atraso de {customer.name}"
    assert list(run.run_steps.order_by("index").values_list("outcome", flat=True)) == ["condition_met", "task_created"]


def test_a_payment_made_before_the_follow_up_runs_gives_no_task_and_a_paused_play_none(org, defaults, committed):
    paid = CustomerFactory(owner=org.csm_a)
    with clock.at(MONDAY):
        _overdue(paid, since=date(2026, 2, 27), committed=committed, paid_before_the_job=True)
    assert not Task.objects.filter(customer=paid).exists()
    assert Run.objects.get(customer=paid).run_steps.get().outcome == "condition_failed"

    services.playbook_pause(playbook=defaults["overdue-payment"], actor=org.admin)
    paused = CustomerFactory(owner=org.csm_a)
    with clock.at(MONDAY):
        _overdue(paused, since=date(2026, 2, 27), committed=committed)
    assert not Task.objects.filter(customer=paused).exists()
    assert not Run.objects.filter(customer=paused).exists()


def test_the_churn_and_overdue_payment_plays_are_installed_active_where_missing_and_a_kept_one_left_alone(org):
    # given a workspace installed before them, where a team deleted "Onboarding kickoff"
    Playbook.objects.filter(key__in=[*INSTALLED_ACTIVE, "onboarding-kickoff"]).delete()

    # when the migration installs them (twice: nothing more the second time)
    assert install_defaults(Playbook, PlaybookVersion, clock.now(), keys=INSTALLED_ACTIVE) == 2
    assert install_defaults(Playbook, PlaybookVersion, clock.now(), keys=INSTALLED_ACTIVE) == 0

    # then both are active with no cool-down, and the team's deletion stands
    installed = Playbook.objects.filter(key__in=INSTALLED_ACTIVE).select_related("live_version")
    assert {(p.name, p.status, p.cooldown_days) for p in installed} == {
        ("Pedido de churn", "active", 0),
        ("Pagamento em atraso", "active", 0),
    }
    assert not Playbook.objects.filter(key="onboarding-kickoff").exists()
