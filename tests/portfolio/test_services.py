"""The customer journey as DOMAIN.md describes it, proved through portfolio.services: onboarding, handoff,
success reviews, churn requests, UTI, churn and reactivation, delinquency, expansion and reassignment."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from core.events import recorded
from playbooks.models import Run
from portfolio import events, ledger, services
from portfolio.models import (
    ActivityKind,
    ChurnKind,
    ChurnOutcome,
    ChurnReason,
    ChurnRequest,
    Customer,
    Handoff,
    MilestoneKind,
    MovementKind,
    OpportunityKind,
    OpportunitySource,
    OpportunityStage,
    ReviewStatus,
    SaveAttempt,
    ServiceModel,
    Stage,
    SubscriptionStatus,
    SuccessReview,
    Task,
    TaskStatus,
    UtiExit,
)
from tests.portfolio.factories import CustomerFactory, churn_task, hand_off, play_tasks, subscribe

pytestmark = pytest.mark.django_db

VALID_CNPJ = "11.222.333/0001-81"
CONCRETE_DETAIL = "Precisa de integração com o SAP B1; o novo CFO cortou as ferramentas que não conversam com ele"


def today():
    return timezone.localdate()


def months_ago(months: int):
    """The first day of the month ``months`` before the current one."""
    return ledger.add_months(ledger.month_start(today()), -months)


def ongoing_customer(org, *, csm=None, service_model=ServiceModel.HIGH_TOUCH, amount_cents=100_000, since=None):
    """A customer onboarded by ism_a, handed off to its CSM (csm_a by default), paying since ``since``
    (the start of three months ago by default, so this month's MRR changes show as their own movement)."""
    start = since or months_ago(3)
    customer = CustomerFactory(implementation_manager=org.ism_a, service_model=service_model, start_date=start)
    subscribe(customer, amount_cents=amount_cents, start=start)
    hand_off(customer, csm or org.csm_a)
    customer.refresh_from_db()
    return customer


def reason(code="missing-integration"):
    return ChurnReason.objects.get(code=code)


def open_churn(customer, actor, detail=CONCRETE_DETAIL):
    return services.churn_request_open(
        customer=customer, kind=ChurnKind.VOLUNTARY, reason=reason(), detail=detail, actor=actor
    )


def movement_this_month(customer):
    return customer.mrr_movements.get(month=ledger.month_start(today()))


# --- Creating a customer ------------------------------------------------------------------------------------


def test_customer_create_starts_onboarding_with_policy_milestones_and_a_timeline_entry(org):
    # given
    start = today()

    # when
    customer = services.customer_create(
        name="  Padaria Pão Quente  ",
        actor=org.ism_a,
        implementation_manager=org.ism_a,
        service_model=ServiceModel.HIGH_TOUCH,
        cnpj=VALID_CNPJ,
        start_date=start,
    )

    # then
    customer.refresh_from_db()
    assert (customer.name, customer.stage, customer.cnpj) == ("Padaria Pão Quente", Stage.ONBOARDING, "11222333000181")
    assert dict(customer.milestones.values_list("kind", "target_date")) == {
        MilestoneKind.FIRST_VALUE: start + timedelta(days=10),
        MilestoneKind.FIRST_SUCCESS: start + timedelta(days=45),
    }
    assert list(customer.activities.values_list("kind", "author")) == [(ActivityKind.SYSTEM, org.ism_a.pk)]


def test_customer_create_refuses_a_cnpj_with_a_wrong_check_digit(org):
    with pytest.raises(ValidationError) as exc:
        services.customer_create(name="Padaria Pão Quente", actor=org.ism_a, cnpj="11.222.333/0001-82")

    assert "cnpj" in exc.value.message_dict
    assert not Customer.objects.exists()


def test_customer_create_refuses_a_viewer(org):
    with pytest.raises(PermissionDenied):
        services.customer_create(name="Padaria Pão Quente", actor=org.viewer_a, cnpj=VALID_CNPJ)

    assert not Customer.objects.exists()


# --- Handoff: no ongoing without one --------------------------------------------------------------------------


def test_move_to_ongoing_without_a_handoff_is_refused_saying_why(org):
    customer = CustomerFactory(implementation_manager=org.ism_a)

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.customer_move_to_ongoing(customer=customer, actor=org.ism_a)

    assert "handoff" in " ".join(exc.value.messages).lower()
    customer.refresh_from_db()
    assert customer.stage == Stage.ONBOARDING


def test_handoff_complete_makes_the_customer_ongoing_under_its_csm(org):
    # given
    customer = CustomerFactory(implementation_manager=org.ism_a, service_model=ServiceModel.HIGH_TOUCH)
    held_on = today() - timedelta(days=2)

    # when
    handoff = hand_off(customer, org.csm_a, actor=org.ism_a, held_on=held_on)

    # then
    customer.refresh_from_db()
    assert (customer.stage, customer.owner, handoff.from_user) == (Stage.ONGOING, org.csm_a, org.ism_a)
    assert list(customer.ownership_periods.values_list("owner", "ended_at")) == [(org.csm_a.pk, None)]
    assert {ActivityKind.HANDOFF, ActivityKind.STAGE_CHANGE} <= set(customer.activities.values_list("kind", flat=True))
    review = customer.reviews.get()
    assert (review.status, review.due_date, review.owner) == (
        ReviewStatus.SCHEDULED,
        ledger.add_months(held_on, 3),
        org.csm_a,
    )


def test_tech_touch_handoff_schedules_no_success_review(org):
    customer = CustomerFactory(implementation_manager=org.ism_a, service_model=ServiceModel.TECH_TOUCH)

    hand_off(customer, org.csm_a, actor=org.ism_a, channel="email")

    customer.refresh_from_db()
    assert customer.stage == Stage.ONGOING
    assert not customer.reviews.exists()


def test_high_touch_handoff_by_email_is_refused(org):
    customer = CustomerFactory(implementation_manager=org.ism_a, service_model=ServiceModel.HIGH_TOUCH)

    with pytest.raises(ValidationError) as exc:
        hand_off(customer, org.csm_a, actor=org.ism_a, channel="email")

    assert "channel" in exc.value.message_dict
    customer.refresh_from_db()
    assert customer.stage == Stage.ONBOARDING
    assert not Handoff.objects.exists()


def test_low_touch_handoff_by_email_is_accepted(org):
    customer = CustomerFactory(implementation_manager=org.ism_a, service_model=ServiceModel.LOW_TOUCH)

    handoff = hand_off(customer, org.csm_a, actor=org.ism_a, channel="email")

    customer.refresh_from_db()
    assert (handoff.channel, customer.stage) == ("email", Stage.ONGOING)


def test_handoff_refuses_empty_results_goals_and_stakeholders(org):
    customer = CustomerFactory(implementation_manager=org.ism_a)

    with pytest.raises(ValidationError) as exc:
        hand_off(customer, org.csm_a, actor=org.ism_a, results="", goals="   ", stakeholders="")

    assert {"results", "goals", "stakeholders"} <= set(exc.value.message_dict)
    customer.refresh_from_db()
    assert customer.stage == Stage.ONBOARDING


# --- Success reviews ----------------------------------------------------------------------------------------


def test_review_complete_records_it_and_schedules_the_next_carrying_its_goals(org):
    # given
    customer = ongoing_customer(org)
    review = customer.reviews.get(status=ReviewStatus.SCHEDULED)
    past = [{"q": "Which goals from the last cycle were reached?", "a": "Funil configurado; 50 leads por semana"}]
    future = [{"q": "What are the goals for the next cycle?", "a": "Dobrar a conversão até dezembro"}]
    held_on = today() - timedelta(days=3)

    # when
    services.review_complete(
        review=review,
        held_on=held_on,
        past=past,
        future=future,
        goals=["Dobrar a conversão até dezembro", "  "],
        outcome="Cliente satisfeito; plano de expansão para o time de vendas",
        actor=org.csm_a,
    )

    # then
    review.refresh_from_db()
    assert (review.status, review.held_on) == (ReviewStatus.DONE, held_on)
    assert (review.answers["past"], review.answers["future"]) == (past, future)
    assert review.goals == ["Dobrar a conversão até dezembro"]
    assert review.outcome == "Cliente satisfeito; plano de expansão para o time de vendas"
    following = customer.reviews.get(status=ReviewStatus.SCHEDULED)
    assert following.due_date == ledger.add_months(held_on, 3)
    assert following.answers["carried_goals"] == review.goals


def test_review_complete_refuses_an_empty_review(org):
    customer = ongoing_customer(org)
    review = customer.reviews.get(status=ReviewStatus.SCHEDULED)

    with pytest.raises(ValidationError):
        services.review_complete(
            review=review,
            held_on=today(),
            past=[{"q": "What got in the way?", "a": ""}],
            future=[{"q": "What are the goals for the next cycle?", "a": "   "}],
            goals=[],
            outcome="Reunião feita",
            actor=org.csm_a,
        )

    review.refresh_from_db()
    assert review.status == ReviewStatus.SCHEDULED
    assert customer.reviews.count() == 1


# --- Churn requests -----------------------------------------------------------------------------------------


VAGUE_DETAILS = [
    "não quer pagar",
    "não quer mais pagar",
    "Cliente não viu valor",
    "Cliente não vê valor",
    "Não viu valor no produto",
    "O cliente disse que não viu valor no produto.",
    "Sem motivo aparente informado",
    "Não informou o motivo",
    "Motivos internos",
    "Preço",
    "Caro demais",
    "Preço alto",
    "Corte de custos",
    "Sem orçamento",
    "Problemas financeiros",
    "Trocou pelo concorrente",
    "Migrou para um concorrente mais barato",
    "Achou o sistema caro e pouco útil",
    "O cliente informou que não tem mais interesse no sistema",
    "O Cliente Não Viu Valor No Produto",
    "SEM MOTIVO APARENTE",
    "desconhecido",
    "outro",
    "Outros",
    "unknown",
    "saw no value",
    "doesn't want to pay",
    "Doesn\u2019t want to pay",
    "Other reasons",
    "They didn't see the value of the product",
    "The customer said they no longer need the tool",
    "Too expensive for them right now",
    "Budget constraints",
    "N/A",
]
CONCRETE_DETAILS = [
    CONCRETE_DETAIL,
    "Precisa de integração com SAP B1; o novo CFO cortou ferramentas sem ela",
    "Migrou para o concorrente X por R$ 300 a menos por mês",
    "Preço alto: concorrente X cobra 30% menos",
    "Sem orçamento após corte de 40% em marketing",
    "Fechou a filial de Campinas, que era a única usuária",
    "Migrou para o Pipedrive",
    "Cliente não viu valor porque o módulo de NFS-e não emite notas para Sorocaba",
    "Só 2 das 15 licenças foram usadas nos últimos 60 dias",
    "A Ana, champion do projeto, saiu da empresa e o novo gestor quer reavaliar",
    "The new VP moved the team to Salesforce",
    "Switched to HubSpot after the merger with Acme",
    "Their accountant requires Xero exports we don't have",
]


@pytest.mark.parametrize("detail", VAGUE_DETAILS)
def test_a_detail_that_only_restates_a_vague_reason_is_vague_however_long(detail):
    assert services.churn_detail_is_vague(detail)


@pytest.mark.parametrize("detail", CONCRETE_DETAILS)
def test_a_detail_with_a_concrete_cause_is_not_vague(detail):
    assert not services.churn_detail_is_vague(detail)


@pytest.mark.parametrize(
    "detail",
    [
        "não quer pagar",
        "Cliente não viu valor",
        "O cliente disse que não viu valor no produto.",
        "Sem motivo aparente informado",
        "desconhecido",
        "outro",
        "unknown",
        "saw no value",
        "doesn't want to pay",
        "They didn't see the value of the product",
    ],
)
def test_churn_request_refuses_a_vague_detail(org, detail):
    customer = ongoing_customer(org)

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        open_churn(customer, org.csm_a, detail=detail)

    assert "Write the concrete cause" in exc.value.message_dict["detail"][0]
    assert not ChurnRequest.objects.exists()


def test_churn_request_refuses_a_vague_detail_typed_with_a_typographic_apostrophe(org):
    customer = ongoing_customer(org)

    with pytest.raises(ValidationError) as exc:
        open_churn(customer, org.csm_a, detail="Doesn\u2019t want to pay")

    assert "detail" in exc.value.message_dict


def test_churn_request_with_a_concrete_detail_puts_the_customers_mrr_at_risk(org):
    customer = ongoing_customer(org, amount_cents=250_000)

    request = open_churn(customer, org.csm_a)

    request.refresh_from_db()
    assert (request.outcome, request.detail, request.reason.code) == (
        ChurnOutcome.OPEN,
        CONCRETE_DETAIL,
        "missing-integration",
    )
    assert request.mrr_at_risk_cents == customer.mrr_cents == 250_000


def test_a_customer_has_one_open_churn_request_at_a_time(org):
    customer = ongoing_customer(org)
    open_churn(customer, org.csm_a)

    with pytest.raises(ValidationError):
        open_churn(customer, org.csm_a)

    assert customer.churn_requests.count() == 1


def test_opening_a_churn_request_gives_the_owner_a_task_and_announces_it_after_commit(org, committed):
    # given
    customer = ongoing_customer(org)

    # when
    with recorded() as announced, committed():
        request = open_churn(customer, org.csm_a)
        announced_before_commit = list(announced)
        tasks_before_commit = Task.objects.filter(customer=customer).count()

    # then: the "Churn request" playbook's task, the customer's only one
    task = Task.objects.get(customer=customer)
    assert task == churn_task(request)
    assert (task.owner, task.status, task.due_date) == (org.csm_a, TaskStatus.OPEN, today())
    assert task.title == f"Trabalhar o pedido de churn de {customer.name}"
    assert (announced_before_commit, tasks_before_commit) == ([], 0)
    assert [e for e in announced if isinstance(e, events.ChurnRequestOpened)] == [
        events.ChurnRequestOpened(
            customer_id=customer.pk,
            churn_request_id=request.pk,
            kind=ChurnKind.VOLUNTARY,
            mrr_at_risk_cents=customer.mrr_cents,
        )
    ]


def test_save_attempt_add_records_the_offer(org):
    request = open_churn(ongoing_customer(org), org.csm_a)

    services.save_attempt_add(churn_request=request, offer="  Dois meses com 30% de desconto  ", actor=org.csm_a)

    assert list(request.save_attempts.values_list("offer", "by")) == [("Dois meses com 30% de desconto", org.csm_a.pk)]


def test_a_closed_churn_request_refuses_save_attempts(org):
    request = open_churn(ongoing_customer(org), org.csm_a)
    services.churn_request_resolve(churn_request=request, outcome=ChurnOutcome.RECOVERED, actor=org.csm_a)
    request.refresh_from_db()

    with pytest.raises(ValidationError):
        services.save_attempt_add(churn_request=request, offer="Desconto de 30%", actor=org.csm_a)

    assert not SaveAttempt.objects.exists()


CHECKIN = "UTI: ligação semanal de acompanhamento"
CLOSING = "UTI: revisão de encerramento"


def uti_plan_keys(stay) -> dict[str, str]:
    """The origin keys of a stay's recovery plan: the tasks of the "UTI recovery month" playbook's run for it
    (steps 0–2 the weekly check-ins, 3 the closing review)."""
    run = Run.objects.get(playbook__key="uti-recovery-month", trigger_key=f"uti:{stay.pk}")
    names = ["checkin:1", "checkin:2", "checkin:3", "exit"]
    return {name: f"playbook:{run.pk}:{index}" for index, name in enumerate(names)}


# --- Resolving a churn request ------------------------------------------------------------------------------


def test_recovered_churn_request_puts_the_customer_in_uti_with_a_recovery_plan(org, committed):
    # given
    customer = ongoing_customer(org)
    with committed():
        request = open_churn(customer, org.csm_a)

    # when
    with committed():
        stay = services.churn_request_resolve(churn_request=request, outcome=ChurnOutcome.RECOVERED, actor=org.csm_a)

    # then
    customer.refresh_from_db()
    assert customer.stage == Stage.UTI
    assert (stay.started_on, stay.ends_on, stay.exit) == (today(), today() + timedelta(days=30), UtiExit.OPEN)
    # the recovery plan is the "UTI recovery month" playbook's run, one per stay
    plan = uti_plan_keys(stay)
    recovery = Task.objects.filter(customer=customer, origin_key__in=plan.values()).order_by("due_date")
    assert list(recovery.values_list("origin_key", "due_date", "owner", "title")) == [
        (plan["checkin:1"], today() + timedelta(days=7), org.csm_a.pk, f"{CHECKIN} com {customer.name} (1/3)"),
        (plan["checkin:2"], today() + timedelta(days=14), org.csm_a.pk, f"{CHECKIN} com {customer.name} (2/3)"),
        (plan["checkin:3"], today() + timedelta(days=21), org.csm_a.pk, f"{CHECKIN} com {customer.name} (3/3)"),
        (plan["exit"], stay.ends_on, org.csm_a.pk, f"{CLOSING} com {customer.name} — decidir a saída"),
    ]
    # the churn request's own task is done, and nothing else is open but the recovery plan
    assert churn_task(request).status == TaskStatus.DONE
    assert Task.objects.filter(customer=customer, status=TaskStatus.OPEN).count() == 4


def test_resolving_a_churn_request_twice_is_refused_and_adds_no_recovery_tasks(org, committed):
    # given
    customer = ongoing_customer(org)
    request = open_churn(customer, org.csm_a)
    with committed():
        services.churn_request_resolve(churn_request=request, outcome=ChurnOutcome.RECOVERED, actor=org.csm_a)

    # when
    with committed(), pytest.raises(ValidationError):
        services.churn_request_resolve(churn_request=request, outcome=ChurnOutcome.RECOVERED, actor=org.csm_a)

    # then
    assert Task.objects.filter(customer=customer, origin="playbook").count() == 4
    assert customer.uti_stays.count() == 1


def test_task_create_with_the_recovery_plans_key_returns_the_existing_task(org, committed):
    customer = ongoing_customer(org)
    with committed():
        stay = services.churn_request_resolve(
            churn_request=open_churn(customer, org.csm_a), outcome=ChurnOutcome.RECOVERED, actor=org.csm_a
        )
    planned = Task.objects.get(origin_key=uti_plan_keys(stay)["exit"])

    again = services.task_create(
        customer=customer,
        owner=org.csm_a,
        title="UTI: closing review",
        due_date=stay.ends_on,
        origin="playbook",
        origin_key=uti_plan_keys(stay)["exit"],
    )

    assert again.pk == planned.pk
    assert Task.objects.filter(customer=customer, origin="playbook").count() == 4


def test_downsell_records_a_contraction_and_puts_the_customer_in_uti(org):
    # given
    customer = ongoing_customer(org, amount_cents=100_000)
    subscription = customer.subscriptions.get()
    request = open_churn(customer, org.csm_a)

    # when
    stay = services.churn_request_resolve(
        churn_request=request, outcome=ChurnOutcome.DOWNSELL, actor=org.csm_a, downsell={subscription: 60_000}
    )

    # then
    customer.refresh_from_db()
    request.refresh_from_db()
    movement = movement_this_month(customer)
    assert (movement.kind, movement.amount_cents, movement.mrr_end_cents) == (MovementKind.CONTRACTION, 40_000, 60_000)
    assert (customer.stage, customer.mrr_cents, request.outcome) == (Stage.UTI, 60_000, ChurnOutcome.DOWNSELL)
    assert stay.customer_id == customer.pk


def open_churn_on(customer, actor, requested_on):
    return services.churn_request_open(
        customer=customer,
        kind=ChurnKind.VOLUNTARY,
        reason=reason(),
        detail=CONCRETE_DETAIL,
        actor=actor,
        requested_on=requested_on,
    )


def test_a_save_recorded_late_starts_the_uti_month_and_its_plan_on_the_day_it_happened(org, committed):
    # given: asked to cancel 12 days ago, saved 10 days ago, recorded today
    customer = ongoing_customer(org)
    saved_on = today() - timedelta(days=10)
    request = open_churn_on(customer, org.csm_a, requested_on=today() - timedelta(days=12))

    # when
    with committed():
        stay = services.churn_request_resolve(
            churn_request=request, outcome=ChurnOutcome.RECOVERED, actor=org.csm_a, effective_date=saved_on
        )

    # then
    stay.refresh_from_db()
    assert (stay.started_on, stay.ends_on) == (saved_on, saved_on + timedelta(days=30))
    plan = uti_plan_keys(stay)
    recovery = Task.objects.filter(customer=customer, origin="playbook").order_by("due_date")
    assert list(recovery.values_list("origin_key", "due_date")) == [
        (plan["checkin:1"], saved_on + timedelta(days=7)),
        (plan["checkin:2"], saved_on + timedelta(days=14)),
        (plan["checkin:3"], saved_on + timedelta(days=21)),
        (plan["exit"], saved_on + timedelta(days=30)),
    ]


def test_a_downsell_dated_earlier_starts_the_uti_month_with_the_lower_amount(org):
    # given
    customer = ongoing_customer(org, amount_cents=100_000)
    subscription = customer.subscriptions.get()
    saved_on = today() - timedelta(days=3)
    request = open_churn_on(customer, org.csm_a, requested_on=today() - timedelta(days=5))

    # when
    stay = services.churn_request_resolve(
        churn_request=request,
        outcome=ChurnOutcome.DOWNSELL,
        actor=org.csm_a,
        effective_date=saved_on,
        downsell={subscription: 60_000},
    )

    # then
    assert (stay.started_on, stay.ends_on) == (saved_on, saved_on + timedelta(days=30))
    assert customer.subscriptions.get(replaces=subscription).start_date == saved_on


@pytest.mark.parametrize("outcome", [ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL])
@pytest.mark.parametrize("days_from_today", [1, -6])
def test_a_save_dated_in_the_future_or_before_the_request_is_refused(org, outcome, days_from_today):
    # given: asked to cancel 5 days ago
    customer = ongoing_customer(org, amount_cents=100_000)
    subscription = customer.subscriptions.get()
    request = open_churn_on(customer, org.csm_a, requested_on=today() - timedelta(days=5))

    # when
    with pytest.raises(ValidationError) as exc:
        services.churn_request_resolve(
            churn_request=request,
            outcome=outcome,
            actor=org.csm_a,
            effective_date=today() + timedelta(days=days_from_today),
            downsell={subscription: 60_000},
        )

    # then
    assert "effective_date" in exc.value.message_dict
    request.refresh_from_db()
    customer.refresh_from_db()
    assert (request.outcome, customer.stage, customer.mrr_cents) == (ChurnOutcome.OPEN, Stage.ONGOING, 100_000)
    assert not customer.uti_stays.exists()


def test_a_churn_may_take_effect_in_the_future(org):
    customer = ongoing_customer(org)
    ends_on = today() + timedelta(days=20)

    services.churn_request_resolve(
        churn_request=open_churn(customer, org.csm_a),
        outcome=ChurnOutcome.CHURNED,
        actor=org.csm_a,
        effective_date=ends_on,
    )

    assert list(customer.subscriptions.values_list("end_date", flat=True)) == [ends_on]


def test_churned_request_ends_every_subscription_and_records_the_churn(org):
    # given
    customer = ongoing_customer(org, amount_cents=100_000)
    subscribe(customer, amount_cents=50_000, start=months_ago(2), product="Leme BI")
    request = open_churn(customer, org.csm_a)

    # when
    stay = services.churn_request_resolve(churn_request=request, outcome=ChurnOutcome.CHURNED, actor=org.csm_a)

    # then
    customer.refresh_from_db()
    request.refresh_from_db()
    assert stay is None
    assert set(customer.subscriptions.values_list("status", "end_date")) == {(SubscriptionStatus.CANCELLED, today())}
    assert (customer.stage, customer.mrr_cents) == (Stage.CHURNED, 0)
    movement = movement_this_month(customer)
    assert (movement.kind, movement.amount_cents) == (MovementKind.CHURN, 150_000)
    assert (request.outcome, request.reason.code, request.detail) == (
        ChurnOutcome.CHURNED,
        "missing-integration",
        CONCRETE_DETAIL,
    )


# --- Leaving UTI ------------------------------------------------------------------------------------------


def test_uti_exit_recovered_returns_to_ongoing_and_cancels_the_open_recovery_tasks(org, committed):
    # given
    customer = ongoing_customer(org)
    with committed():
        stay = services.churn_request_resolve(
            churn_request=open_churn(customer, org.csm_a), outcome=ChurnOutcome.RECOVERED, actor=org.csm_a
        )
    plan = uti_plan_keys(stay)
    first_checkin = Task.objects.get(origin_key=plan["checkin:1"])
    services.task_complete(task=first_checkin, actor=org.csm_a)

    # when
    with committed():
        services.uti_exit(stay=stay, decision=UtiExit.RECOVERED, actor=org.csm_a, notes="Uso voltou ao normal")

    # then
    customer.refresh_from_db()
    stay.refresh_from_db()
    assert customer.stage == Stage.ONGOING
    assert (stay.exit, stay.exited_on) == (UtiExit.RECOVERED, today())
    statuses = dict(Task.objects.filter(origin="playbook").values_list("origin_key", "status"))
    assert statuses == {
        plan["checkin:1"]: TaskStatus.DONE,
        plan["checkin:2"]: TaskStatus.CANCELLED,
        plan["checkin:3"]: TaskStatus.CANCELLED,
        plan["exit"]: TaskStatus.CANCELLED,
    }


def test_uti_exit_churned_after_all_churns_the_customer(org, committed):
    # given
    customer = ongoing_customer(org, amount_cents=100_000)
    with committed():
        stay = services.churn_request_resolve(
            churn_request=open_churn(customer, org.csm_a), outcome=ChurnOutcome.RECOVERED, actor=org.csm_a
        )
    assert Task.objects.filter(origin="playbook", status=TaskStatus.OPEN).count() == 4

    # when
    with committed():
        services.uti_exit(stay=stay, decision=UtiExit.CHURNED, actor=org.csm_a, notes="Decidiu sair mesmo assim")

    # then
    customer.refresh_from_db()
    assert (customer.stage, customer.mrr_cents) == (Stage.CHURNED, 0)
    movement = movement_this_month(customer)
    assert (movement.kind, movement.amount_cents) == (MovementKind.CHURN, 100_000)
    assert not Task.objects.filter(origin="playbook", status=TaskStatus.OPEN).exists()


# --- Reactivation -----------------------------------------------------------------------------------------


def test_a_churned_customer_who_subscribes_again_is_a_reactivation_back_in_ongoing(org):
    # given: paying for a while, churned two months ago
    customer = ongoing_customer(org, amount_cents=100_000, since=months_ago(4))
    services.churn_request_resolve(
        churn_request=open_churn(customer, org.csm_a),
        outcome=ChurnOutcome.CHURNED,
        actor=org.csm_a,
        effective_date=months_ago(2),
    )
    customer.refresh_from_db()

    # when
    subscribe(customer, amount_cents=80_000, start=today())

    # then
    customer.refresh_from_db()
    assert list(customer.mrr_movements.values_list("month", "kind", "amount_cents")) == [
        (months_ago(4), MovementKind.NEW, 100_000),
        (months_ago(2), MovementKind.CHURN, 100_000),
        (months_ago(0), MovementKind.REACTIVATION, 80_000),
    ]
    assert (customer.stage, customer.mrr_cents) == (Stage.ONGOING, 80_000)


def test_reactivation_reads_the_stored_stage_not_the_callers_copy(org):
    # given: the caller holds the customer as it was before the churn
    customer = ongoing_customer(org, amount_cents=100_000, since=months_ago(4))
    services.churn_request_resolve(
        churn_request=open_churn(customer, org.csm_a),
        outcome=ChurnOutcome.CHURNED,
        actor=org.csm_a,
        effective_date=months_ago(2),
    )

    # when
    subscribe(customer, amount_cents=80_000, start=today())

    # then
    customer.refresh_from_db()
    assert (customer.stage, customer.mrr_cents) == (Stage.ONGOING, 80_000)


# --- Delinquency ------------------------------------------------------------------------------------------


def test_a_delinquent_subscription_keeps_its_mrr_and_gets_one_follow_up_task(org, committed):
    # given
    customer = ongoing_customer(org, amount_cents=100_000)
    subscription = customer.subscriptions.get()
    since = today() - timedelta(days=3)

    # when
    with committed():
        marked = services.subscription_mark_delinquent(subscription=subscription, since=since, actor=None)
    with committed():
        repeat = services.subscription_mark_delinquent(subscription=subscription, since=since, actor=None)

    # then
    customer.refresh_from_db()
    subscription.refresh_from_db()
    assert (subscription.status, subscription.delinquent_since) == (SubscriptionStatus.DELINQUENT, since)
    assert customer.mrr_cents == 100_000
    # the "Overdue payment" playbook's follow-up: the payment was still overdue, then its task
    task = play_tasks(f"delinquency:{subscription.pk}:{since.isoformat()}").get()
    assert (task.owner, task.origin, task.status, task.due_date) == (
        org.csm_a,
        "playbook",
        TaskStatus.OPEN,
        today() + timedelta(days=1),
    )
    assert task.title == f"Acompanhar o pagamento em atraso de {customer.name}"
    assert (marked, repeat) == (True, False)
    assert Task.objects.filter(customer=customer).count() == 1


def test_delinquency_escalates_to_an_involuntary_churn_request_after_the_configured_days_once(org, settings):
    # given
    days = settings.LEME_DELINQUENCY_CHURN_DAYS
    customer = ongoing_customer(org)
    since = today() - timedelta(days=days)
    services.subscription_mark_delinquent(subscription=customer.subscriptions.get(), since=since, actor=None)

    # when
    too_early = services.delinquency_escalate(today=since + timedelta(days=days - 1))
    on_time = services.delinquency_escalate(today=since + timedelta(days=days))
    again = services.delinquency_escalate(today=since + timedelta(days=days + 1))

    # then
    assert too_early == []
    assert [(r.customer_id, r.kind, r.reason.code) for r in on_time] == [
        (customer.pk, ChurnKind.INVOLUNTARY, "invoice-unpaid")
    ]
    assert again == []
    assert customer.churn_requests.count() == 1


# --- Expansion --------------------------------------------------------------------------------------------


def test_won_upsell_raises_the_subscription_as_expansion(org):
    # given
    customer = ongoing_customer(org, amount_cents=100_000)
    subscription = customer.subscriptions.get()
    opportunity = services.opportunity_create(
        customer=customer,
        actor=org.csm_a,
        kind=OpportunityKind.UPSELL,
        source=OpportunitySource.PROACTIVE,
        title="Plano Business",
        mrr_cents=50_000,
    )

    # when
    grown = services.opportunity_win(
        opportunity=opportunity, actor=org.csm_a, effective_date=today(), subscription=subscription
    )

    # then
    customer.refresh_from_db()
    opportunity.refresh_from_db()
    assert (grown.amount_cents, customer.mrr_cents, opportunity.stage) == (150_000, 150_000, OpportunityStage.WON)
    movement = movement_this_month(customer)
    assert (movement.kind, movement.amount_cents) == (MovementKind.EXPANSION, 50_000)


def test_won_cross_sell_adds_a_subscription_as_expansion(org):
    # given
    customer = ongoing_customer(org, amount_cents=100_000)
    opportunity = services.opportunity_create(
        customer=customer,
        actor=org.csm_a,
        kind=OpportunityKind.CROSS_SELL,
        source=OpportunitySource.REACTIVE,
        title="Módulo de BI",
        mrr_cents=30_000,
    )

    # when
    services.opportunity_win(opportunity=opportunity, actor=org.csm_a, effective_date=today(), product="Leme BI")

    # then
    customer.refresh_from_db()
    assert sorted(customer.subscriptions.values_list("product", "amount_cents")) == [
        ("Leme BI", 30_000),
        ("Leme CRM", 100_000),
    ]
    movement = movement_this_month(customer)
    assert (movement.kind, movement.amount_cents, customer.mrr_cents) == (MovementKind.EXPANSION, 30_000, 130_000)


# --- Reassignment -------------------------------------------------------------------------------------------


def test_leader_reassigns_customers_with_their_open_tasks_and_ownership_history(org):
    # given
    first, second = ongoing_customer(org), ongoing_customer(org)
    open_task = services.task_create(customer=first, owner=org.csm_a, title="Ligar para Ana", due_date=today())
    done_task = services.task_create(customer=first, owner=org.csm_a, title="Enviar relatório", due_date=today())
    services.task_complete(task=done_task, actor=org.csm_a)

    # when
    moved = services.customers_reassign(
        customers=[first, second], to_owner=org.csm_a2, actor=org.leader_a, note="Redistribuição de carteira"
    )

    # then
    assert moved == 2
    assert set(Customer.objects.values_list("owner", flat=True)) == {org.csm_a2.pk}
    open_task.refresh_from_db()
    done_task.refresh_from_db()
    assert (open_task.owner, done_task.owner) == (org.csm_a2, org.csm_a)
    periods = list(first.ownership_periods.order_by("started_at").values_list("owner", "ended_at"))
    assert [owner for owner, _ in periods] == [org.csm_a.pk, org.csm_a2.pk]
    assert (periods[0][1] is not None, periods[1][1]) == (True, None)
    # the handoff gave the customer its first owner; the reassignment is the latest owner change
    change = first.activities.filter(kind=ActivityKind.OWNER_CHANGE).latest("pk")
    assert (change.author, change.data) == (
        org.leader_a,
        {"from": org.csm_a.pk, "to": org.csm_a2.pk, "by_handoff": False},
    )


def test_reassignment_moves_the_scheduled_success_review_to_the_new_owner(org):
    customer = ongoing_customer(org)

    services.customers_reassign(customers=[customer], to_owner=org.csm_a2, actor=org.leader_a)

    assert customer.reviews.get(status=ReviewStatus.SCHEDULED).owner == org.csm_a2


def test_a_csm_cannot_reassign_customers(org):
    customer = ongoing_customer(org)

    with pytest.raises(PermissionDenied):
        services.customers_reassign(customers=[customer], to_owner=org.csm_a2, actor=org.csm_a)

    customer.refresh_from_db()
    assert customer.owner == org.csm_a


def test_a_leader_cannot_take_another_teams_customers(org):
    customer = ongoing_customer(org, csm=org.csm_b)

    with pytest.raises(PermissionDenied):
        services.customers_reassign(customers=[customer], to_owner=org.csm_a, actor=org.leader_a)

    customer.refresh_from_db()
    assert customer.owner == org.csm_b


def test_a_leader_cannot_assign_customers_to_another_teams_csm(org):
    customer = ongoing_customer(org)

    with pytest.raises(ValidationError) as exc:
        services.customers_reassign(customers=[customer], to_owner=org.csm_b, actor=org.leader_a)

    assert "to_owner" in exc.value.message_dict
    customer.refresh_from_db()
    assert customer.owner == org.csm_a


# --- Tasks and the timeline -------------------------------------------------------------------------------


def test_task_create_with_an_origin_key_is_idempotent(org):
    customer = ongoing_customer(org)
    task = {
        "customer": customer,
        "owner": org.csm_a,
        "title": "Responder ao detrator",
        "due_date": today(),
        "origin": "survey",
        "origin_key": "nps-answer:42",
    }

    first = services.task_create(**task)
    second = services.task_create(**task)

    assert first.pk == second.pk
    assert Task.objects.filter(origin_key="nps-answer:42").count() == 1


@pytest.mark.parametrize("kind", [ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL])
def test_a_human_touch_on_the_timeline_is_the_customers_last_touch(org, kind):
    customer = ongoing_customer(org)
    when = timezone.now() - timedelta(hours=2)

    services.activity_log(customer=customer, kind=kind, title="Conversa com a Ana", author=org.csm_a, happened_at=when)

    customer.refresh_from_db()
    assert customer.last_touch_at == when


@pytest.mark.parametrize("kind", [ActivityKind.NOTE, ActivityKind.SYSTEM, ActivityKind.STAGE_CHANGE, "survey"])
def test_other_timeline_entries_do_not_count_as_a_touch(org, kind):
    customer = ongoing_customer(org)

    services.activity_log(customer=customer, kind=kind, title="Anotação interna", author=org.csm_a)

    customer.refresh_from_db()
    assert customer.last_touch_at is None


def test_scheduled_reviews_are_one_per_customer(org):
    customer = ongoing_customer(org)

    services.review_schedule(customer=customer, due_date=today() + timedelta(days=7), actor=org.csm_a)

    assert list(SuccessReview.objects.filter(customer=customer).values_list("status", "due_date")) == [
        (ReviewStatus.SCHEDULED, today() + timedelta(days=7))
    ]


def test_a_handoff_to_another_csm_than_planned_moves_the_planned_csms_open_tasks(org):
    # given a customer planned for csm_a2, who already has an open task about it
    customer = CustomerFactory(owner=org.csm_a2, implementation_manager=org.ism_a)
    task = services.task_create(
        customer=customer, owner=org.csm_a2, title="Preparar a passagem", due_date=timezone.localdate()
    )

    # when the ISM hands it off to csm_a instead
    hand_off(customer, org.csm_a, actor=org.ism_a)

    # then csm_a owns it and the task, and the ownership periods say who owned it when
    customer.refresh_from_db()
    task.refresh_from_db()
    assert (customer.owner, task.owner) == (org.csm_a, org.csm_a)
    periods = list(customer.ownership_periods.order_by("started_at", "pk").values_list("owner", "ended_at"))
    assert [owner for owner, _end in periods] == [org.csm_a2.pk, org.csm_a.pk]
    assert periods[0][1] is not None
    assert periods[1][1] is None


def test_customers_are_reassigned_only_to_people_who_own_customers(org):
    customer = CustomerFactory(owner=org.csm_a)

    with pytest.raises(ValidationError):
        services.customers_reassign(customers=[customer], to_owner=org.ism_a, actor=org.leader_a)

    customer.refresh_from_db()
    assert customer.owner == org.csm_a
