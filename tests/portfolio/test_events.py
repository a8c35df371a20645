"""What portfolio announces: each service's event, with the facts a subscriber needs, after commit."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.events import recorded
from portfolio import events, services
from portfolio.models import (
    ChurnKind,
    ChurnOutcome,
    OpportunityKind,
    OpportunitySource,
    OpportunityStage,
    Stage,
    UtiExit,
)
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.portfolio.test_services import CONCRETE_DETAIL, months_ago, ongoing_customer, reason, today

pytestmark = pytest.mark.django_db


def announced_of(announced, event_type):
    return [e for e in announced if type(e) is event_type]


def test_reassignment_announces_each_owner_change(org, committed):
    # given
    first, second = ongoing_customer(org), ongoing_customer(org)

    # when
    with recorded() as announced, committed():
        services.customers_reassign(customers=[first, second], to_owner=org.csm_a2, actor=org.leader_a)

    # then
    assert announced_of(announced, events.OwnerChanged) == [
        events.OwnerChanged(
            customer_id=c.pk,
            from_owner_id=org.csm_a.pk,
            to_owner_id=org.csm_a2.pk,
            actor_id=org.leader_a.pk,
            by_handoff=False,
        )
        for c in (first, second)
    ]


def test_a_handoff_to_a_new_owner_announces_the_owner_change_and_the_handoff(org, committed):
    # given
    customer = CustomerFactory(implementation_manager=org.ism_a, owner=org.csm_a2)

    # when
    with recorded() as announced, committed():
        handoff = services.handoff_complete(
            customer=customer,
            to_user=org.csm_a,
            results="Primeiros 50 leads importados",
            goals="Dobrar a conversão",
            stakeholders="Ana (decisora)",
            channel="meeting",
            held_on=today(),
            actor=org.ism_a,
        )

    # then
    assert announced_of(announced, events.OwnerChanged) == [
        events.OwnerChanged(
            customer_id=customer.pk,
            from_owner_id=org.csm_a2.pk,
            to_owner_id=org.csm_a.pk,
            actor_id=org.ism_a.pk,
            by_handoff=True,
        )
    ]
    assert announced_of(announced, events.HandoffCompleted) == [
        events.HandoffCompleted(
            customer_id=customer.pk, handoff_id=handoff.pk, from_user_id=org.ism_a.pk, to_user_id=org.csm_a.pk
        )
    ]
    assert announced_of(announced, events.StageChanged) == [
        events.StageChanged(customer_id=customer.pk, from_stage=Stage.ONBOARDING, to_stage=Stage.ONGOING)
    ]


def test_a_milestone_reached_late_is_announced_as_late(org, committed):
    customer = CustomerFactory(implementation_manager=org.ism_a, start_date=today() - timedelta(days=60))
    milestone = customer.milestones.get(kind="first_value")

    with recorded() as announced, committed():
        services.milestone_achieve(milestone=milestone, achieved_on=today(), actor=org.ism_a)

    assert announced == [
        events.MilestoneReached(
            customer_id=customer.pk,
            milestone_id=milestone.pk,
            kind="first_value",
            achieved_on=today(),
            target_date=milestone.target_date,
            late=True,
        )
    ]


def test_subscription_events_carry_the_customers_mrr_before_and_after(org, committed):
    # given: one subscription of R$ 1.000 since three months ago
    customer = ongoing_customer(org, amount_cents=100_000)
    first = customer.subscriptions.get()

    # when: a second one, then the first raised, then the second cancelled
    with recorded() as announced, committed():
        second = services.subscription_create(
            customer=customer, product="Leme BI", amount_cents=30_000, start_date=months_ago(1), actor=org.csm_a
        )
        raised = services.subscription_change(
            subscription=first, actor=org.csm_a, effective_date=months_ago(1), amount_cents=150_000
        )
        services.subscription_cancel(subscription=second, actor=org.csm_a, end_date=today())

    # then
    assert announced == [
        events.SubscriptionCreated(
            customer_id=customer.pk, subscription_id=second.pk, mrr_before_cents=100_000, mrr_after_cents=130_000
        ),
        events.SubscriptionChanged(
            customer_id=customer.pk,
            subscription_id=raised.pk,
            replaced_id=first.pk,
            effective_date=months_ago(1),
            mrr_before_cents=130_000,
            mrr_after_cents=180_000,
        ),
        events.SubscriptionCancelled(
            customer_id=customer.pk,
            subscription_id=second.pk,
            end_date=today(),
            mrr_before_cents=180_000,
            mrr_after_cents=150_000,
        ),
    ]
    assert [e.mrr_change_cents for e in announced] == [30_000, 50_000, -30_000]


def test_delinquency_starts_and_ends_once_each(org, committed):
    # given
    customer = ongoing_customer(org)
    subscription = customer.subscriptions.get()
    since = today() - timedelta(days=3)

    # when
    with recorded() as announced, committed():
        services.subscription_mark_delinquent(subscription=subscription, since=since, actor=None)
        services.subscription_mark_delinquent(subscription=subscription, since=since, actor=None)
        services.subscription_mark_paid(subscription=subscription, actor=None)
        services.subscription_mark_paid(subscription=subscription, actor=None)

    # then
    assert announced == [
        events.DelinquencyStarted(customer_id=customer.pk, subscription_id=subscription.pk, since=since),
        events.DelinquencyEnded(customer_id=customer.pk, subscription_id=subscription.pk, paid=True),
    ]


def test_a_delinquent_subscription_cancelled_ends_the_delinquency_unpaid(org, committed):
    customer = ongoing_customer(org)
    subscription = customer.subscriptions.get()
    services.subscription_mark_delinquent(subscription=subscription, since=today(), actor=None)

    with recorded() as announced, committed():
        services.subscription_cancel(subscription=subscription, actor=None, end_date=today())

    assert announced_of(announced, events.DelinquencyEnded) == [
        events.DelinquencyEnded(customer_id=customer.pk, subscription_id=subscription.pk, paid=False)
    ]


def test_the_uti_month_is_announced_when_it_starts_and_when_it_ends(org, committed):
    # given
    customer = ongoing_customer(org)
    request = services.churn_request_open(
        customer=customer, kind=ChurnKind.VOLUNTARY, reason=reason(), detail=CONCRETE_DETAIL, actor=org.csm_a
    )

    # when
    with recorded() as announced, committed():
        stay = services.churn_request_resolve(churn_request=request, outcome=ChurnOutcome.RECOVERED, actor=org.csm_a)
        services.uti_exit(stay=stay, decision=UtiExit.RECOVERED, actor=org.csm_a, notes="Uso normal")

    # then
    assert announced_of(announced, events.ChurnRequestRecovered) == [
        events.ChurnRequestRecovered(
            customer_id=customer.pk, churn_request_id=request.pk, uti_stay_id=stay.pk, outcome=ChurnOutcome.RECOVERED
        )
    ]
    assert announced_of(announced, events.UtiEntered) == [
        events.UtiEntered(
            customer_id=customer.pk,
            uti_stay_id=stay.pk,
            churn_request_id=request.pk,
            started_on=stay.started_on,
            ends_on=stay.ends_on,
            actor_id=org.csm_a.pk,
        )
    ]
    assert announced_of(announced, events.UtiLeft) == [
        events.UtiLeft(customer_id=customer.pk, uti_stay_id=stay.pk, decision=UtiExit.RECOVERED)
    ]


def test_churning_is_announced_with_its_date(org, committed):
    customer = ongoing_customer(org)
    request = services.churn_request_open(
        customer=customer, kind=ChurnKind.VOLUNTARY, reason=reason(), detail=CONCRETE_DETAIL, actor=org.csm_a
    )

    with recorded() as announced, committed():
        services.churn_request_resolve(churn_request=request, outcome=ChurnOutcome.CHURNED, actor=org.csm_a)

    assert announced_of(announced, events.CustomerChurned) == [
        events.CustomerChurned(customer_id=customer.pk, churn_request_id=request.pk, effective_date=today())
    ]
    assert announced_of(announced, events.SubscriptionCancelled)[0].mrr_after_cents == 0


def test_opportunities_won_and_lost_are_announced(org, committed):
    # given
    customer = ongoing_customer(org)
    cross_sell = services.opportunity_create(
        customer=customer,
        actor=org.csm_a,
        title="Leme BI",
        kind=OpportunityKind.CROSS_SELL,
        mrr_cents=20_000,
        source=OpportunitySource.PROACTIVE,
    )
    upsell = services.opportunity_create(
        customer=customer,
        actor=org.csm_a,
        title="Plano Enterprise",
        kind=OpportunityKind.UPSELL,
        mrr_cents=50_000,
        source=OpportunitySource.REACTIVE,
    )

    # when
    with recorded() as announced, committed():
        services.opportunity_win(opportunity=cross_sell, actor=org.csm_a, effective_date=today())
        services.opportunity_move(opportunity=upsell, stage=OpportunityStage.LOST, actor=org.csm_a)
        services.opportunity_move(opportunity=upsell, stage=OpportunityStage.LOST, actor=org.csm_a)

    # then
    assert announced_of(announced, events.OpportunityWon) == [
        events.OpportunityWon(
            customer_id=customer.pk,
            opportunity_id=cross_sell.pk,
            kind=OpportunityKind.CROSS_SELL,
            mrr_cents=20_000,
        )
    ]
    assert announced_of(announced, events.OpportunityLost) == [
        events.OpportunityLost(
            customer_id=customer.pk, opportunity_id=upsell.pk, kind=OpportunityKind.UPSELL, mrr_cents=50_000
        )
    ]


def test_a_contact_opting_out_is_announced_once(org, committed):
    contact = ContactFactory(customer=ongoing_customer(org))

    with recorded() as announced, committed():
        services.contact_update(contact=contact, actor=None, opted_out_at=timezone.now())
        services.contact_update(contact=contact, actor=None, name="Outro Nome")

    assert announced == [events.ContactOptedOut(customer_id=contact.customer_id, contact_id=contact.pk)]


def test_a_refused_churn_request_announces_nothing(org, committed):
    customer = ongoing_customer(org)

    with recorded() as announced, committed(), pytest.raises(ValidationError):
        services.churn_request_open(
            customer=customer, kind=ChurnKind.VOLUNTARY, reason=reason(), detail="não viu valor", actor=org.csm_a
        )

    assert announced == []
