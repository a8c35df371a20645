"""Writing a demo customer's plan through ``portfolio.services``, as its story happened.

Every step of the plan (a subscription starts, a milestone is reached, a churn request is opened, a touch is
logged...) is replayed on its own day, oldest first, so the journey's rules, the ledger and the automatic
tasks come from the same code the app runs. Services read the moment from ``core.clock``; the steps of a
day run inside ``clock.at(<that day>)`` and a transaction of their own, so the subscribers that act once it
commits (the churn-request task, the UTI recovery plan, the overdue-payment task) also act on that day: a
task "due tomorrow" is due the day after the step, not the day after the seeding. (A step that needed what
a subscriber does after another step of the same day would not find it yet; none does.)
"""

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.db import transaction

from accounts.models import User
from core import clock
from demo.people import LEADER_KEY
from demo.plans import ChurnPlan, Context, CustomerPlan, Line, OpportunityPlan, TaskPlan, moment
from demo.words import UTI_EXIT_NOTES
from playbooks.models import Run
from portfolio import ledger, services
from portfolio.models import (
    ChurnKind,
    ChurnOutcome,
    ChurnRequest,
    Customer,
    ExpansionOpportunity,
    Handoff,
    MilestoneKind,
    OpportunityStage,
    OwnershipPeriod,
    ReviewStatus,
    SaveAttempt,
    Subscription,
    SubscriptionStatus,
    SuccessReview,
    Task,
    UtiExit,
    UtiStay,
)
from portfolio.subscribers import uti_checkin_weeks


def ticking(day: date) -> Callable[[], datetime]:
    """A clock for ``core.clock.at``: 9:00 on ``day``, a second later at each reading, so that what a step
    writes keeps its order."""
    start = moment(day)
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=next(ticks))


@contextmanager
def on_day(day: date, today: date) -> Iterator[None]:
    """Run the enclosed services as if it were ``day`` (9:00, a second later at each reading), in a
    transaction of their own that commits before the clock is set back: what subscribers do after the
    commit happens on ``day`` too. Days from ``today`` on run on the real clock.

    Needs to run outside any transaction (a savepoint would commit nothing, and subscribers would act
    later, on another day) and with Celery tasks run in-process, as the embedded default does
    (``seed_demo`` sees to it).
    """
    if day >= today:
        with transaction.atomic():
            yield
        return
    with clock.at(ticking(day)), transaction.atomic():
        yield


def checkin_weeks(started_on: date, uti_days: int) -> int:
    """How many weekly check-ins the UTI plan gives a recovery month of ``uti_days`` (as its subscriber
    plans it)."""
    return uti_checkin_weeks(UtiStay(started_on=started_on, ends_on=started_on + timedelta(days=uti_days)))


def write_with_services(plan: CustomerPlan, ctx: Context) -> Customer:
    """Replay ``plan`` through the services, each step on its day (see :func:`on_day`)."""
    try:
        return _replay(plan, ctx)
    except BaseException:
        # Each day of the story commits on its own: a customer whose story broke off (an error, Ctrl-C) is
        # removed whole, so that seeding again builds it from the start instead of keeping half a story.
        Customer.objects.filter(external_id=plan.external_id).delete()
        raise


def _replay(plan: CustomerPlan, ctx: Context) -> Customer:
    people, today = ctx.people, ctx.today
    owner = people[plan.owner]
    ism = people[plan.ism] if plan.ism else None
    with on_day(plan.start, today):
        customer = services.customer_create(
            name=plan.name,
            actor=ism or people[LEADER_KEY],  # customers come in through implementation or the leader
            owner=owner,
            implementation_manager=ism,
            farmer=people[plan.farmer] if plan.farmer else None,
            cnpj=plan.cnpj,
            segment=plan.segment,
            plan_tier=plan.plan_tier,
            service_model=plan.service_model,
            start_date=plan.start,
            renewal_date=plan.renewal,
            external_id=plan.external_id,
            tags=[ctx.tags[t] for t in plan.tags],
        )
        for contact in plan.contacts:
            services.contact_create(
                customer=customer,
                actor=ism or owner,
                name=contact.name,
                email=contact.email,
                phone=contact.phone,
                role=contact.role,
            )

    rows: dict[int, Subscription] = {}
    requests: dict[int, ChurnRequest] = {}
    opportunities: dict[int, ExpansionOpportunity] = {}
    ops: list[tuple[date, int, int, Callable[[], None]]] = []

    def at(day: date, order: int, action: Callable[[], None]) -> None:
        ops.append((day, order, len(ops), action))

    for line in plan.lines:

        def start_line(line=line):
            if line.opportunity is not None:
                rows[line.key] = services.opportunity_win(
                    opportunity=opportunities[line.opportunity],
                    actor=owner,
                    effective_date=line.start,
                    product=line.product,
                )
                return
            rows[line.key] = services.subscription_create(
                customer=customer,
                product=line.product,
                plan=line.plan,
                amount_cents=0 if line.trial_until else line.amount,
                billing_period=line.billing,
                status=SubscriptionStatus.TRIAL if line.in_trial or line.trial_until else SubscriptionStatus.ACTIVE,
                start_date=line.start,
                actor=owner,
            )

        at(line.start, 2, start_line)
        if line.trial_until:
            at(
                line.trial_until,
                3,
                lambda line=line: _change(rows, line, line.trial_until, line.amount, owner, paid=True),
            )
        for when, amount in line.changes:
            if any(c.resolved_on == when and c.downsell_to == amount for c in plan.churns):
                continue  # the downsell is the churn request's resolution
            at(when, 3, lambda line=line, when=when, amount=amount: _change(rows, line, when, amount, owner))
        if line.end and not line.ended_by_churn:
            at(
                line.end,
                3,
                lambda line=line: services.subscription_cancel(
                    subscription=rows[line.key], actor=owner, end_date=line.end
                ),
            )
        if line.delinquent_since:
            at(
                line.delinquent_since,
                4,
                lambda line=line: services.subscription_mark_delinquent(
                    subscription=rows[line.key], since=line.delinquent_since, actor=None
                ),
            )

    # The milestones of the service model's templates: first value and first success as planned, the others
    # reached with first success (as demo.bulk writes them).
    reached = {MilestoneKind.FIRST_VALUE: plan.first_value_on, MilestoneKind.FIRST_SUCCESS: plan.first_success_on}
    for milestone in customer.milestones.order_by("pk"):
        achieved = reached.get(milestone.kind, plan.first_success_on)
        if achieved:
            at(
                achieved,
                5,
                lambda milestone=milestone, achieved=achieved: services.milestone_achieve(
                    milestone=milestone, achieved_on=achieved, actor=ism or owner
                ),
            )
    if plan.handoff:
        at(
            plan.handoff["held_on"],
            6,
            lambda: services.handoff_complete(customer=customer, to_user=owner, actor=ism or owner, **plan.handoff),
        )
    for review in plan.reviews:
        at(
            review.held_on,
            7,
            lambda review=review: services.review_complete(
                review=SuccessReview.objects.get(customer=customer, status=ReviewStatus.SCHEDULED),
                held_on=review.held_on,
                past=review.past,
                future=review.future,
                goals=review.goals,
                outcome=review.outcome,
                actor=owner,
            ),
        )
    if plan.reactivated_on and plan.review_due:
        first_due = ledger.add_months(plan.reactivated_on, ctx.policies[plan.service_model][2])
        at(
            plan.reactivated_on,
            8,
            lambda: services.review_schedule(customer=customer, due_date=first_due, actor=owner),
        )
    for n, opportunity in enumerate(plan.opportunities):
        at(
            opportunity.created_on,
            1,
            lambda n=n, opportunity=opportunity: _open_opportunity(customer, owner, opportunities, n, opportunity),
        )
        if opportunity.stage == OpportunityStage.LOST:
            at(
                opportunity.closed_on,
                9,
                lambda n=n: services.opportunity_move(
                    opportunity=opportunities[n], stage=OpportunityStage.LOST, actor=owner
                ),
            )
    for n, request in enumerate(plan.churns):
        at(
            request.requested_on,
            10,
            lambda n=n, request=request: _open_churn(customer, owner, ctx, requests, n, request),
        )
        for day, offer in request.offers:
            at(
                day,
                11,
                lambda n=n, day=day, offer=offer: _save_attempt(requests[n], day, offer, owner),
            )
        if request.outcome != ChurnOutcome.OPEN:
            at(
                request.resolved_on,
                12,
                lambda n=n, request=request: _resolve_churn(customer, owner, rows, requests[n], request),
            )
            if request.outcome != ChurnOutcome.CHURNED:
                weeks = checkin_weeks(request.resolved_on, ctx.policies[plan.service_model][4])
                for week in request.uti_checkins_done:
                    due = request.resolved_on + timedelta(days=7 * week)
                    if week <= weeks and due < today and (request.uti_exit_on is None or due < request.uti_exit_on):
                        at(due, 13, lambda n=n, week=week: _checkin_done(requests[n], week, owner))
            if request.uti_exit:
                at(
                    request.uti_exit_on,
                    14,
                    lambda n=n, request=request: _exit_uti(customer, owner, requests[n], request),
                )
    for touch in plan.touches:
        at(
            touch.on,
            15,
            lambda touch=touch: services.activity_log(
                customer=customer,
                kind=touch.kind,
                title=touch.title,
                body=touch.body,
                author=people[touch.author],
                happened_at=moment(touch.on, touch.hour),
            ),
        )
    for task in plan.tasks:
        at(task.done_on or today, 16, lambda task=task: _task(customer, people[task.owner], task))

    for day, steps in itertools.groupby(sorted(ops, key=lambda op: op[:3]), key=lambda op: op[0]):
        with on_day(day, today):
            for _day, _order, _n, action in steps:
                # Some services change the customer through another instance (churn_request_resolve loads its
                # own); the next step must see the stage and MRR as they are now.
                customer.refresh_from_db()
                action()

    with transaction.atomic():
        if plan.reschedule_review and plan.review_due:
            services.review_schedule(customer=customer, due_date=plan.review_due, actor=owner)
        ledger.sync_customer(customer, today=today)
        # Rows whose creation time is a model default (the clock does not reach those) get their day.
        dates = {"created_at": moment(plan.start, 8)} | (
            {} if plan.transitions else {"stage_changed_at": moment(plan.start)}
        )
        Customer.objects.filter(pk=customer.pk).update(**dates)
        OwnershipPeriod.objects.filter(customer=customer).update(started_at=moment(plan.start))
        if plan.handoff:
            Handoff.objects.filter(customer=customer).update(completed_at=moment(plan.handoff["held_on"], 10))
    return customer


def _change(rows, line: Line, when: date, amount: int | None, actor: User, paid: bool = False) -> None:
    rows[line.key] = services.subscription_change(
        subscription=rows[line.key],
        actor=actor,
        effective_date=when,
        amount_cents=amount,
        status=SubscriptionStatus.ACTIVE if paid else None,
    )


def _open_opportunity(customer, owner, opportunities, n: int, opportunity: OpportunityPlan) -> None:
    opportunities[n] = services.opportunity_create(
        customer=customer,
        actor=owner,
        kind=opportunity.kind,
        source=opportunity.source,
        title=opportunity.title,
        mrr_cents=opportunity.mrr,
    )
    ExpansionOpportunity.objects.filter(pk=opportunities[n].pk).update(created_at=moment(opportunity.created_on))
    if opportunity.stage in (OpportunityStage.PROPOSAL, OpportunityStage.NEGOTIATION):
        services.opportunity_move(opportunity=opportunities[n], stage=opportunity.stage, actor=owner)


def _open_churn(customer, owner, ctx: Context, requests, n: int, request: ChurnPlan) -> None:
    requests[n] = services.churn_request_open(
        customer=customer,
        kind=request.kind,
        reason=ctx.reasons[request.reason],
        detail=request.detail,
        requested_by=request.requested_by,
        requested_on=request.requested_on,
        actor=None if request.kind == ChurnKind.INVOLUNTARY else owner,
    )
    ChurnRequest.objects.filter(pk=requests[n].pk).update(created_at=moment(request.requested_on))


def _resolve_churn(customer, owner, rows, churn_request: ChurnRequest, request: ChurnPlan) -> None:
    services.churn_request_resolve(
        churn_request=churn_request,
        outcome=request.outcome,
        actor=owner,
        effective_date=request.resolved_on,
        downsell={rows[0]: request.downsell_to} if request.outcome == ChurnOutcome.DOWNSELL else None,
    )
    if request.outcome == ChurnOutcome.DOWNSELL:
        rows[0] = Subscription.objects.get(replaces=rows[0])
    if request.outcome == ChurnOutcome.CHURNED:
        _cancel_reviews(customer)


def _checkin_done(churn_request: ChurnRequest, week: int, owner: User) -> None:
    # The check-ins are the "UTI recovery month" playbook's first steps (one task each); a demo whose team
    # paused it has none to complete.
    run = Run.objects.filter(playbook__key=UTI_PLAYBOOK, trigger_key=f"uti:{churn_request.uti_stay.pk}").first()
    task = Task.objects.filter(origin_key=f"playbook:{run.pk}:{week - 1}").first() if run else None
    if task is not None:
        services.task_complete(task=task, actor=owner)


UTI_PLAYBOOK = "uti-recovery-month"


def _exit_uti(customer, owner, churn_request: ChurnRequest, request: ChurnPlan) -> None:
    services.uti_exit(
        stay=churn_request.uti_stay,
        decision=request.uti_exit,
        actor=owner,
        notes=UTI_EXIT_NOTES[request.uti_exit],
        effective_date=request.uti_exit_on,
    )
    if request.uti_exit == UtiExit.CHURNED:
        _cancel_reviews(customer)


def _cancel_reviews(customer: Customer) -> None:
    # The services leave a churned customer's scheduled review in place (there is no review_cancel yet);
    # a demo CSM should not see reviews due for customers who left.
    SuccessReview.objects.filter(customer=customer, status=ReviewStatus.SCHEDULED).update(status=ReviewStatus.CANCELLED)


def _save_attempt(churn_request: ChurnRequest, day: date, offer: str, owner: User) -> None:
    attempt = services.save_attempt_add(churn_request=churn_request, offer=offer, actor=owner)
    SaveAttempt.objects.filter(pk=attempt.pk).update(made_at=moment(day, 14))


def _task(customer: Customer, owner: User, task: TaskPlan) -> None:
    created = services.task_create(
        customer=customer, owner=owner, title=task.title, due_date=task.due, notes=task.notes, created_by=owner
    )
    Task.objects.filter(pk=created.pk).update(created_at=moment(task.created_on, 8))
    if task.done_on:
        services.task_complete(task=created, actor=owner)
