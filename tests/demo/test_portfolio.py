"""The demo portfolio: every journey state even in a small demo, a lively "My day" for Lucas, idempotent and
deterministic seeding, a ledger that passes ``mrr_recompute --check`` on both the services and the bulk path,
and a bulk path that writes what the services would have written.

Replaying history through the services commits step by step (subscribers act after each commit, on the
replayed day), so those tests use a transactional database."""

from collections import Counter
from datetime import date, timedelta
from unittest.mock import Mock

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from demo import plans
from demo.people import demo_user, seed_people
from demo.portfolio import seed_portfolio
from playbooks.models import Run
from portfolio import selectors, services
from portfolio.models import (
    Activity,
    ChurnKind,
    ChurnOutcome,
    ChurnRequest,
    Contact,
    ContactRole,
    Customer,
    ExpansionOpportunity,
    Handoff,
    Milestone,
    MovementKind,
    MrrMovement,
    OpportunityStage,
    ReviewStatus,
    Stage,
    Subscription,
    SubscriptionStatus,
    SuccessReview,
    Task,
    TaskStatus,
    UtiExit,
    UtiStay,
)
from portfolio.taxonomy import POLICIES
from portfolio.validators import cnpj_is_valid
from tests.portfolio.factories import play_tasks

POLICY_TUPLES = {p[0]: p[1:] for p in POLICIES}
MODELS = [
    Customer, Contact, Subscription, MrrMovement, Milestone, Handoff, SuccessReview, ChurnRequest, UtiStay,
    ExpansionOpportunity, Task, Activity,
]  # fmt: skip


def today():
    return timezone.localdate()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def check_ledger(capsys) -> str:
    call_command("mrr_recompute", check=True)
    return capsys.readouterr().out


# --- Pure parts: who owns what, names, CNPJs, determinism ---------------------------------------------------------


def test_lucas_owns_exactly_1000_of_50000_and_a_fair_share_of_a_small_demo():
    big = Counter(plans.owner_for(i) for i in range(50_000))
    small = Counter(plans.owner_for(i) for i in range(300))
    assert big["lucas"] == 1000
    assert sorted(big) == sorted(plans.CSMS)
    assert min(big[csm] for csm in plans.CSMS if csm != "lucas") > 12_000
    assert all(55 <= small[csm] <= 70 for csm in plans.CSMS)


def test_cnpjs_are_valid_and_unique():
    cnpjs = [plans.cnpj_for(i) for i in range(5000)]
    assert all(cnpj_is_valid(cnpj) for cnpj in cnpjs)
    assert len(set(cnpjs)) == len(cnpjs)


def test_a_plan_depends_only_on_the_seed_and_the_index():
    same = [plans.plan_customer(i, 2026, today(), POLICY_TUPLES) for i in (3, 700)]
    assert same == [plans.plan_customer(i, 2026, today(), POLICY_TUPLES) for i in (3, 700)]
    other = plans.plan_customer(700, 7, today(), POLICY_TUPLES)
    assert (other.name, other.lines) != (same[1].name, same[1].lines)
    assert same[1].name.endswith(("Ltda", "S.A.", "ME", "EPP"))


# --- A small demo through the services -------------------------------------------------------------------------


@pytest.fixture
def small_demo(transactional_db):
    call_command("seed_demo", customers=40, health_history=False)


@pytest.mark.usefixtures("small_demo")
def test_a_small_demo_shows_every_journey_state():
    demo_customers = Customer.objects.filter(external_id__startswith="demo-")
    assert demo_customers.count() == 40
    assert set(demo_customers.values_list("stage", flat=True)) == set(Stage.values)
    assert set(MrrMovement.objects.values_list("kind", flat=True)) == set(MovementKind.values)
    assert all(cnpj_is_valid(c) for c in demo_customers.values_list("cnpj", flat=True))
    # onboarding, some late; handoffs from the ISM, some to Lucas
    late = Milestone.objects.filter(customer__stage=Stage.ONBOARDING, achieved_on__isnull=True, target_date__lt=today())
    assert late.exists()
    assert Milestone.objects.filter(achieved_on__gt=timezone.now().date() - timedelta(days=900)).exists()
    assert Handoff.objects.filter(from_user=demo_user("juliana"), to_user=demo_user("lucas")).count() >= 5
    assert demo_customers.filter(stage=Stage.ONBOARDING, owner=demo_user("lucas")).exists()
    # success reviews done, due soon and overdue
    assert SuccessReview.objects.filter(status=ReviewStatus.DONE).count() > 20
    assert SuccessReview.objects.filter(status=ReviewStatus.SCHEDULED, due_date__lt=today()).exists()
    assert SuccessReview.objects.filter(status=ReviewStatus.SCHEDULED, due_date__gte=today()).exists()
    # churn requests: open (voluntary and involuntary), saved into UTI, churned, with concrete Portuguese details
    assert ChurnRequest.objects.filter(outcome=ChurnOutcome.OPEN, kind=ChurnKind.VOLUNTARY).exists()
    assert ChurnRequest.objects.filter(outcome=ChurnOutcome.OPEN, kind=ChurnKind.INVOLUNTARY).exists()
    assert {ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL, ChurnOutcome.CHURNED} <= set(
        ChurnRequest.objects.values_list("outcome", flat=True)
    )
    assert len(set(ChurnRequest.objects.values_list("reason__category__code", flat=True))) >= 3
    assert all(len(detail) > 60 for detail in ChurnRequest.objects.values_list("detail", flat=True))
    assert set(UtiStay.objects.values_list("exit", flat=True)) == set(UtiExit.values)
    assert Task.objects.filter(origin="playbook", title__startswith="UTI", status=TaskStatus.OPEN).exists()
    # delinquency, expansion
    assert Subscription.objects.filter(status=SubscriptionStatus.DELINQUENT).exists()
    assert Subscription.objects.filter(billing_period="annual").exists()
    assert {OpportunityStage.NEGOTIATION, OpportunityStage.WON, OpportunityStage.LOST} <= set(
        ExpansionOpportunity.objects.values_list("stage", flat=True)
    )
    # stakeholders: some customers miss a decision maker or a champion
    covered = Contact.objects.filter(role__in=[ContactRole.DECISION_MAKER, ContactRole.CHAMPION])
    assert demo_customers.exclude(pk__in=covered.values("customer")).exists()
    # last touch varies, some customers untouched for more than 45 days
    alive = demo_customers.exclude(stage=Stage.CHURNED)
    assert alive.filter(last_touch_at__lt=timezone.now() - timedelta(days=45)).exists()
    assert alive.filter(last_touch_at__gt=timezone.now() - timedelta(days=7)).exists()
    assert Activity.objects.filter(kind="call", body__contains="time de").exists()


@pytest.mark.usefixtures("small_demo")
def test_every_csm_has_tasks_overdue_today_and_upcoming_and_lucas_a_lively_day():
    for key in plans.CSMS:
        mine = Task.objects.filter(owner=demo_user(key), status=TaskStatus.OPEN)
        assert mine.filter(due_date__lt=today()).exists(), key
        assert mine.filter(due_date=today()).exists(), key
        assert mine.filter(due_date__gt=today()).exists(), key
    day = selectors.my_day(demo_user("lucas"))
    assert {t.due_date < today() for t in day["tasks"]} == {True, False}
    assert day["reviews"]
    assert day["uti"]
    assert day["churn_requests"]
    # Onboarding milestones are on the day of whoever runs the onboarding: the ISM, or the CSM when there is none.
    lucas = demo_user("lucas")
    assert all(m.customer.implementation_manager in (None, lucas) for m in day["milestones"])
    assert selectors.my_day(demo_user(plans.ISM))["milestones"]


def test_seeding_twice_changes_nothing_and_the_ledger_checks(small_demo, capsys):
    before = counts()
    capsys.readouterr()

    call_command("seed_demo", customers=40, health_history=False)

    assert "all 40 demo customers already there" in capsys.readouterr().out
    assert counts() == before
    assert "agrees" in check_ledger(capsys)


# --- The bulk path ------------------------------------------------------------------------------------------


def test_the_bulk_path_builds_a_base_that_passes_the_ledger_check(db, capsys):
    seed_people()
    lines = seed_portfolio(customers=300, journeys=0)

    assert "300 created (0 through the services, 300 in bulk)" in lines[0]
    assert set(Customer.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert set(MrrMovement.objects.values_list("kind", flat=True)) == set(MovementKind.values)
    assert "Checked 300 customers" in check_ledger(capsys)
    # every ongoing customer was handed off, none churned has MRR, every UTI has its stay
    assert not Customer.objects.filter(stage=Stage.ONGOING, handoff__isnull=True).exists()
    assert not Customer.objects.filter(stage=Stage.CHURNED, mrr_cents__gt=0).exists()
    assert Customer.objects.filter(stage=Stage.UTI).count() == UtiStay.objects.filter(exit=UtiExit.OPEN).count()
    assert seed_portfolio(customers=300) == ["customers: all 300 demo customers already there"]


def snapshot() -> dict[str, dict]:
    """What each demo customer looks like, without ids or the instants the services stamp with the real clock."""

    def day(moment):
        return timezone.localdate(moment) if moment else None

    result = {}
    for c in Customer.objects.filter(external_id__startswith="demo-").prefetch_related("tags"):
        subscriptions = Subscription.objects.filter(customer=c).select_related("replaces")
        requests = ChurnRequest.objects.filter(customer=c).select_related("reason")
        result[c.external_id] = {
            "customer": (
                c.name, c.cnpj, c.segment, c.plan_tier, c.service_model, c.stage, day(c.stage_changed_at), c.owner_id,
                c.implementation_manager_id, c.farmer_id, c.start_date, c.renewal_date, c.mrr_cents, c.last_touch_at,
                c.created_at, sorted(t.name for t in c.tags.all()),
            ),
            "periods": sorted(c.ownership_periods.values_list("owner_id", "started_at", "ended_at")),
            "contacts": sorted(c.contacts.values_list("name", "email", "phone", "role")),
            "subscriptions": sorted(
                (s.product, s.plan, s.amount_cents, s.billing_period, s.status, s.start_date, s.end_date,
                 s.delinquent_since, s.replaces and (s.replaces.product, s.replaces.start_date))
                for s in subscriptions
            ),
            "movements": sorted(
                c.mrr_movements.values_list(
                    "month", "kind", "amount_cents", "mrr_start_cents", "mrr_end_cents", "owner_id", "segment",
                    "plan_tier", "service_model",
                )
            ),
            "milestones": sorted(c.milestones.values_list("kind", "description", "target_date", "achieved_on")),
            "handoff": sorted(
                Handoff.objects.filter(customer=c).values_list(
                    "from_user", "to_user", "results", "goals", "risks", "stakeholders", "channel", "held_on",
                    "completed_at",
                )
            ),
            "reviews": sorted(
                [(r.owner_id, r.due_date, r.held_on, r.status, r.answers, r.goals, r.outcome) for r in c.reviews.all()],
                key=repr,
            ),
            "churn_requests": sorted(
                (r.kind, r.reason.code, r.detail, r.requested_by, r.requested_on, r.mrr_at_risk_cents, r.opened_by_id,
                 r.outcome, day(r.resolved_at), r.created_at,
                 sorted(r.save_attempts.values_list("offer", "by", "made_at")))
                for r in requests
            ),
            "uti": sorted(c.uti_stays.values_list("started_on", "ends_on", "exit", "exited_on", "exit_notes")),
            "opportunities": sorted(
                (o.kind, o.source, o.title, o.mrr_cents, o.stage, o.owner_id, o.created_at, day(o.closed_at))
                for o in c.opportunities.all()
            ),
            "tasks": sorted(
                (t.owner_id, t.title, t.due_date, t.status, t.origin, day(t.completed_at),
                 t.created_at if t.origin == "manual" else None)
                for t in c.tasks.all()
            ),
            "activities": sorted(
                (a.kind, a.title, a.body, a.author_id, day(a.happened_at)) for a in c.activities.all()
            ),
        }  # fmt: skip
    return result


def test_the_bulk_path_writes_what_the_services_would(transactional_db):
    # given: the first 60 demo customers (every scripted story and more) built through the services
    seed_people()
    seed_portfolio(customers=60)
    through_services = snapshot()
    # when: the same customers are built again in bulk
    Customer.objects.filter(Q(external_id__startswith="demo-")).delete()
    seed_portfolio(customers=60, journeys=0)
    in_bulk = snapshot()
    # then
    assert in_bulk.keys() == through_services.keys()
    # the UTI plan, the churn requests' tasks and the overdue payments' follow-ups came from their playbooks on
    # both paths, a run per stay, per request, per overdue payment
    assert Run.objects.filter(playbook__key="uti-recovery-month").count() == UtiStay.objects.count() > 0
    assert Run.objects.filter(playbook__key="churn-request").count() == ChurnRequest.objects.count() > 0
    overdue = Subscription.objects.filter(status=SubscriptionStatus.DELINQUENT).count()
    assert Run.objects.filter(playbook__key="overdue-payment").count() == overdue > 0
    differences = [
        (key, part, rows, in_bulk[key][part])
        for key, expected in through_services.items()
        for part, rows in expected.items()
        if in_bulk[key][part] != rows
    ]
    assert differences == []


# --- Replaying history: commits, and what is left when it breaks off ------------------------------------------


def test_the_history_is_not_replayed_inside_a_transaction(db):
    seed_people()

    with pytest.raises(RuntimeError, match="outside a transaction"):
        seed_portfolio(customers=1)

    assert not Customer.objects.exists()


def test_a_customer_whose_replay_breaks_off_is_removed_and_built_again_next_time(transactional_db, monkeypatch):
    # given: the first customer's save attempt (a few days into its churn request) fails
    seed_people()
    monkeypatch.setattr(services, "save_attempt_add", Mock(side_effect=ConnectionError("the database went away")))
    with pytest.raises(ConnectionError):
        seed_portfolio(customers=1)
    assert not Customer.objects.exists()
    # when
    monkeypatch.undo()
    seed_portfolio(customers=1)
    # then
    customer = Customer.objects.get(external_id="demo-00000")
    assert ChurnRequest.objects.get(customer=customer).save_attempts.count() == 1
    request = ChurnRequest.objects.get(customer=customer)
    assert play_tasks(f"churn_request:{request.pk}").filter(status=TaskStatus.OPEN).count() == 1


def test_subscribers_act_on_the_replayed_day(transactional_db):
    seed_people()

    seed_portfolio(customers=25)

    # each churn request's task (the "Churn request" playbook's run for it) is due the day it was opened
    assert ChurnRequest.objects.exists()
    for request in ChurnRequest.objects.all():
        assert play_tasks(f"churn_request:{request.pk}").get().due_date == request.requested_on
    # each overdue payment's follow-up (the "Overdue payment" playbook's run for it) is due the next day
    overdue = Run.objects.filter(playbook__key="overdue-payment")
    assert overdue.count() == Subscription.objects.filter(status=SubscriptionStatus.DELINQUENT).count() > 0
    for run in overdue:
        since = run.trigger_key.rsplit(":", 1)[1]
        assert play_tasks(run.trigger_key).get().due_date == date.fromisoformat(since) + timedelta(days=1)
    for stay in UtiStay.objects.all():
        # the "UTI recovery month" playbook's run for the stay: its fourth step is the closing review
        run = Run.objects.get(playbook__key="uti-recovery-month", trigger_key=f"uti:{stay.pk}")
        exit_task = Task.objects.get(origin_key=f"playbook:{run.pk}:3")
        assert exit_task.due_date == stay.ends_on
