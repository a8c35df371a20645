"""The engine: each trigger enrols (or not, outside the audience), re-entry and cool-down, exits that cancel
open tasks, versions, pause and resume timing, and a step that runs once."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import clock
from core.events import Event, publish
from health.events import HealthBandChanged
from playbooks import engine, services
from playbooks.models import Run, RunStatus, RunStep, StepEmail
from portfolio import events
from portfolio import services as portfolio_services
from portfolio.models import ChurnReason, Customer, Task, TaskStatus
from surveys.events import DetractorAnswered
from tests.playbooks.factories import email_step, live_playbook, task_step
from tests.portfolio.factories import ContactFactory, CustomerFactory, subscribe

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("America/Sao_Paulo")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


def playbook_tasks(run):
    return Task.objects.filter(origin="playbook", origin_key__startswith=f"playbook:{run.pk}:")


# One event per trigger kind, with what the playbook's parameters ask.
TRIGGERS = [
    (
        "stage_changed",
        {"stage": "ongoing"},
        lambda c: events.StageChanged(customer_id=c.pk, from_stage="onboarding", to_stage="ongoing"),
    ),
    (
        "handoff_done",
        {},
        lambda c: events.HandoffCompleted(customer_id=c.pk, handoff_id=7, from_user_id=None, to_user_id=c.owner_id),
    ),
    (
        "detractor_answered",
        {},
        lambda c: DetractorAnswered(
            response_id=3,
            campaign_id=1,
            kind="nps",
            score=4,
            customer_id=c.pk,
            contact_id=None,
            answered_on=date(2026, 3, 2),
        ),
    ),
    ("churn_request_opened", {}, lambda c: open_churn_request(c)),
    (
        "uti_entered",
        {},
        lambda c: portfolio_services.churn_request_resolve(
            churn_request=open_churn_request(c), outcome="recovered", actor=c.owner
        ),
    ),
    ("uti_left", {}, lambda c: events.UtiLeft(customer_id=c.pk, uti_stay_id=2, decision="recovered")),
    (
        "delinquency_started",
        {},
        lambda c: portfolio_services.subscription_mark_delinquent(
            subscription=subscribe(c), since=date(2026, 3, 1), actor=None
        ),
    ),
    (
        "health_band_changed",
        {"band": "red"},
        lambda c: HealthBandChanged(
            customer_id=c.pk, day=date(2026, 3, 2), from_band="yellow", to_band="red", score=31
        ),
    ),
]


def open_churn_request(customer):
    return portfolio_services.churn_request_open(
        customer=customer,
        kind="voluntary",
        reason=ChurnReason.objects.get(code="budget-cut"),
        detail="Fusão com outra rede cortou o orçamento de ferramentas em 40%",
        actor=customer.owner,
    )


@pytest.mark.parametrize(("kind", "params", "event"), TRIGGERS, ids=[t[0] for t in TRIGGERS])
def test_each_trigger_enrols_a_customer_in_the_audience_and_not_one_outside(kind, params, event, org, committed):
    # given a playbook for high-touch customers on this trigger
    playbook = live_playbook(trigger_kind=kind, trigger_params=params, service_models=["high"])
    inside = CustomerFactory(owner=org.csm_a, service_model="high")
    outside = CustomerFactory(owner=org.csm_a, service_model="tech")

    # when the event happens to both
    with clock.at(MONDAY), committed():
        for customer in (inside, outside):
            happened = event(customer)
            if isinstance(happened, Event):
                publish(happened)

    # then only the one in the audience is in a run, and its first task exists for its CSM
    run = Run.objects.get(playbook=playbook)
    assert run.customer == inside
    task = playbook_tasks(run).get()
    assert run.trigger_key
    assert (task.owner, task.due_date, task.origin_key) == (org.csm_a, date(2026, 3, 4), f"playbook:{run.pk}:0")
    assert not Run.objects.filter(customer=outside).exists()


def test_customer_created_enrols_and_a_team_playbook_only_takes_its_teams_customers(org, committed):
    playbook = live_playbook(trigger_kind="customer_created", team=org.team_a, steps=[task_step(assignee="ism")])
    with committed():
        ours = CustomerFactory(implementation_manager=org.ism_a)
        CustomerFactory(owner=org.csm_b)
    assert list(Run.objects.filter(playbook=playbook).values_list("customer", flat=True)) == [ours.pk]
    assert Task.objects.get(origin="playbook").owner == org.ism_a


def test_a_customer_is_in_a_playbook_once_at_a_time_and_not_again_within_the_cool_down(org):
    playbook = live_playbook(cooldown_days=30, steps=[task_step(), {"kind": "wait", "days": 5}, task_step("Segunda")])
    customer = CustomerFactory(owner=org.csm_a)
    with clock.at(MONDAY):
        first = engine.enrol(playbook=playbook, customer_id=customer.pk)
        assert engine.enrol(playbook=playbook, customer_id=customer.pk) is None  # already in it
        engine.run_exit(run_id=first.pk, reason="teste")
    with clock.at(MONDAY + timedelta(days=29)):
        assert engine.enrol(playbook=playbook, customer_id=customer.pk) is None  # cooling down
    with clock.at(MONDAY + timedelta(days=31)):
        assert engine.enrol(playbook=playbook, customer_id=customer.pk) is not None


def test_the_exit_goal_ends_the_run_and_cancels_its_open_tasks_with_a_note(org, committed):
    playbook = live_playbook(
        trigger_kind="health_band_changed",
        trigger_params={"band": "red"},
        exit_goal="back_to_green",
        steps=[
            task_step("Descobrir o motivo"),
            task_step("Plano de resgate", assignee="leader"),
            {"kind": "wait", "days": 14},
        ],
    )
    customer = CustomerFactory(owner=org.csm_a)
    with committed():
        publish(
            HealthBandChanged(
                customer_id=customer.pk, day=date(2026, 3, 2), from_band="yellow", to_band="red", score=30
            )
        )
    run = Run.objects.get(playbook=playbook)
    assert playbook_tasks(run).filter(status=TaskStatus.OPEN).count() == 2

    with committed():
        publish(
            HealthBandChanged(customer_id=customer.pk, day=date(2026, 3, 9), from_band="red", to_band="green", score=80)
        )

    run.refresh_from_db()
    assert run.status == RunStatus.EXITED
    assert run.ended_at is not None
    cancelled = list(playbook_tasks(run))
    assert {t.status for t in cancelled} == {TaskStatus.CANCELLED}
    assert all("Resgate" in t.notes for t in cancelled)


def test_a_churned_customer_leaves_its_runs(org, committed):
    playbook = live_playbook(steps=[task_step(), {"kind": "wait", "days": 3}, task_step("Depois")])
    customer = CustomerFactory(owner=org.csm_a)
    run = services.run_start(playbook=playbook, customer=customer, actor=org.csm_a)
    with committed():
        publish(events.CustomerChurned(customer_id=customer.pk, churn_request_id=None, effective_date=date(2026, 3, 2)))
    run.refresh_from_db()
    assert run.status == RunStatus.EXITED
    assert playbook_tasks(run).get().status == TaskStatus.CANCELLED


def test_a_run_keeps_its_version_after_a_new_one_is_published(org):
    playbook = live_playbook(steps=[task_step("v1"), {"kind": "wait", "days": 2}, task_step("v1 depois")])
    customer = CustomerFactory(owner=org.csm_a)
    with clock.at(MONDAY):
        run = services.run_start(playbook=playbook, customer=customer, actor=org.csm_a)
    services.step_add(playbook=playbook, actor=org.admin, step=task_step("só na v2"))
    services.version_publish(playbook=playbook, actor=org.admin)
    with clock.at(MONDAY + timedelta(days=3)):
        engine.runs_advance_due()
    run.refresh_from_db()
    assert run.version.number == 1
    assert run.status == RunStatus.COMPLETED
    assert list(playbook_tasks(run).values_list("title", flat=True)) == ["v1", "v1 depois"]
    playbook.refresh_from_db()
    assert playbook.live_version.number == 2


def test_pause_and_resume_keep_the_time_left_to_wait(org):
    playbook = live_playbook(steps=[{"kind": "wait", "days": 7}, task_step("Depois da espera")])
    customer = CustomerFactory(owner=org.csm_a)
    with clock.at(MONDAY):
        run = services.run_start(playbook=playbook, customer=customer, actor=org.admin)
    # paused on day 2 for 3 days
    with clock.at(MONDAY + timedelta(days=2)):
        services.playbook_pause(playbook=playbook, actor=org.admin)
    with clock.at(MONDAY + timedelta(days=8)):
        assert engine.runs_advance_due() == 0  # paused: nothing runs
    run.refresh_from_db()
    assert run.status == RunStatus.PAUSED
    with clock.at(MONDAY + timedelta(days=5)):
        services.playbook_resume(playbook=playbook, actor=org.admin)
    run.refresh_from_db()
    assert run.status == RunStatus.ACTIVE
    assert run.next_due_at == MONDAY + timedelta(days=10)
    with clock.at(MONDAY + timedelta(days=9)):
        assert engine.runs_advance_due() == 0
    with clock.at(MONDAY + timedelta(days=10)):
        assert engine.runs_advance_due() == 1
    assert playbook_tasks(run).get().title == "Depois da espera"


def test_a_step_runs_once_when_the_advance_job_runs_twice(org):
    playbook = live_playbook(
        steps=[
            {"kind": "wait", "days": 1},
            task_step("Uma vez"),
            email_step(contact_role="user"),
        ]
    )
    customers = CustomerFactory.create_batch(3, owner=org.csm_a)
    for customer in customers:
        ContactFactory(customer=customer, role="user")
    with clock.at(MONDAY):
        for customer in customers:
            services.run_start(playbook=playbook, customer=customer, actor=org.admin)
    with clock.at(MONDAY + timedelta(days=1)):
        first = engine.runs_advance_due()
        second = engine.runs_advance_due()
    assert (first, second) == (6, 0)
    assert Task.objects.filter(origin="playbook").count() == 3
    assert RunStep.objects.count() == 9
    assert set(RunStep.objects.filter(kind="email").values_list("outcome", flat=True)) == {"email_queued"}
    assert StepEmail.objects.count() == 3
    assert set(Run.objects.values_list("status", flat=True)) == {RunStatus.COMPLETED}


def test_a_condition_that_no_longer_holds_ends_the_run(org, committed):
    playbook = live_playbook(
        trigger_kind="health_band_changed",
        trigger_params={"band": "red"},
        steps=[{"kind": "wait", "days": 14}, {"kind": "condition", "check": "still_red"}, task_step("Escalar")],
    )
    customer = CustomerFactory(owner=org.csm_a)
    with clock.at(MONDAY), committed():
        publish(
            HealthBandChanged(customer_id=customer.pk, day=date(2026, 3, 2), from_band="green", to_band="red", score=20)
        )
    with committed():
        publish(
            HealthBandChanged(
                customer_id=customer.pk, day=date(2026, 3, 6), from_band="red", to_band="yellow", score=50
            )
        )
    with clock.at(MONDAY + timedelta(days=14)):
        engine.runs_advance_due()
    run = Run.objects.get(playbook=playbook)
    assert run.status == RunStatus.COMPLETED
    assert run.run_steps.get(index=1).outcome == "condition_failed"
    assert not playbook_tasks(run).exists()


def test_a_condition_reads_the_band_health_wrote_on_the_customer(org, committed):
    """An override (or a nightly run whose event the run missed) shows on the customer's own columns: the
    "still red" check and the "back to green" goal read those, not only the events the run heard."""
    playbook = live_playbook(
        trigger_kind="health_band_changed",
        trigger_params={"band": "red"},
        steps=[{"kind": "wait", "days": 14}, {"kind": "condition", "check": "still_red"}, task_step("Escalar")],
    )
    customer = CustomerFactory(owner=org.csm_a)
    with clock.at(MONDAY), committed():
        publish(
            HealthBandChanged(customer_id=customer.pk, day=date(2026, 3, 2), from_band="green", to_band="red", score=20)
        )
    Customer.objects.filter(pk=customer.pk).update(health_band="yellow", health_score=60)
    with clock.at(MONDAY + timedelta(days=14)):
        engine.runs_advance_due()
    run = Run.objects.get(playbook=playbook)
    assert run.status == RunStatus.COMPLETED
    assert run.run_steps.get(index=1).outcome == "condition_failed"
    assert not playbook_tasks(run).exists()


def test_the_daily_check_enrols_renewals_once_per_renewal_date(org):
    playbook = live_playbook(trigger_kind="renewal_in", trigger_params={"days": 90}, cooldown_days=0)
    soon = CustomerFactory(owner=org.csm_a, renewal_date=date(2026, 5, 1))
    later = CustomerFactory(owner=org.csm_a, renewal_date=date(2026, 9, 1))
    with clock.at(MONDAY):
        assert engine.date_triggers_check() == 1
        engine.runs_advance_due()
    run = Run.objects.get(playbook=playbook)
    assert (run.customer, run.trigger_key, run.status) == (soon, "renewal:2026-05-01", RunStatus.COMPLETED)
    with clock.at(MONDAY + timedelta(days=1)):
        assert engine.date_triggers_check() == 0  # the same renewal is not played twice
    assert not Run.objects.filter(customer=later).exists()


def test_the_daily_check_enrols_success_reviews_due_once_per_review(org):
    playbook = live_playbook(trigger_kind="review_due_in", trigger_params={"days": 14}, cooldown_days=0)
    customer = CustomerFactory(owner=org.csm_a)
    far = CustomerFactory(owner=org.csm_a)
    review = portfolio_services.review_schedule(customer=customer, due_date=date(2026, 3, 12), actor=org.csm_a)
    portfolio_services.review_schedule(customer=far, due_date=date(2026, 6, 1), actor=org.csm_a)
    with clock.at(MONDAY):
        assert engine.date_triggers_check() == 1
    with clock.at(MONDAY + timedelta(days=1)):
        assert engine.date_triggers_check() == 0
    run = Run.objects.get(playbook=playbook)
    assert (run.customer, run.trigger_key) == (customer, f"review:{review.pk}")


def test_the_daily_check_finds_customers_without_a_touch(org):
    no_touch = live_playbook(name="Sem contato", trigger_kind="no_touch_in", trigger_params={"days": 30})
    quiet = CustomerFactory(owner=org.csm_a)
    Customer.objects.filter(pk=quiet.pk).update(created_at=MONDAY - timedelta(days=60))
    touched = CustomerFactory(owner=org.csm_a)
    Customer.objects.filter(pk=touched.pk).update(
        created_at=MONDAY - timedelta(days=60), last_touch_at=MONDAY - timedelta(days=3)
    )
    with clock.at(MONDAY):
        engine.date_triggers_check()
    assert list(Run.objects.filter(playbook=no_touch).values_list("customer", flat=True)) == [quiet.pk]
