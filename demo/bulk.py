"""Writing demo customers' plans in bulk: the rest of a large base (e.g. ``seed_demo --customers 50000``).

The same plans ``demo.history`` replays through the services become rows with ``bulk_create``, a chunk at
a time with a fixed number of queries, and the MRR ledger is computed with ``ledger.compute_movements``.
The rows mirror what the services, and the subscribers acting on their events, would have written (the
automatic tasks keep their ``origin_key``s and their owner's language); ``mrr_recompute --check`` proves the
ledger agrees, and a test compares both paths customer by customer.
"""

import itertools
from datetime import date, timedelta

from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from demo.people import LEADER_KEY
from demo.plans import Context, CustomerPlan, Line, label, moment
from demo.words import UTI_EXIT_NOTES
from playbooks import steps as step_rules
from playbooks import task_text
from playbooks.models import Playbook, PlaybookStatus, Run, RunStatus, RunStep, StepOutcome
from portfolio import ledger
from portfolio.models import (
    Activity,
    ActivityKind,
    ChurnKind,
    ChurnOutcome,
    ChurnRequest,
    Contact,
    Customer,
    ExpansionOpportunity,
    Handoff,
    HandoffChannel,
    Milestone,
    MilestoneKind,
    MrrMovement,
    OwnershipPeriod,
    ReviewStatus,
    SaveAttempt,
    ServiceModel,
    Stage,
    Subscription,
    SubscriptionStatus,
    SuccessReview,
    Task,
    TaskStatus,
    UtiExit,
    UtiStay,
)
from portfolio.money import reais
from portfolio.settings_milestone_selectors import milestone_templates_active
from portfolio.settings_milestone_services import milestone_templates_ensure


def in_language_of(owner: User) -> translation.override:
    # Automatic tasks are written by subscribers in their owner's language.
    return translation.override(owner.language or None)


UTI_PLAYBOOK = "uti-recovery-month"


def _uti_runs(stay_tasks, people, today: date) -> list[tuple[Run, list[tuple[int, Task]]]]:
    """What the "UTI recovery month" playbook did for each stay (when it is active, as the services would find
    it): a run started on the save's day, its tasks (check-ins done on their day when the plan says so), and,
    for a stay already left, the run exited with its open tasks cancelled on that day."""
    playbook = (
        Playbook.objects.filter(key=UTI_PLAYBOOK, status=PlaybookStatus.ACTIVE).select_related("live_version").first()
    )
    if playbook is None or playbook.live_version is None:
        return []
    version = playbook.live_version
    found = []
    for plan, customer, request, stay in stay_tasks:
        owner = people[plan.owner]
        started = moment(stay.started_on, 12)
        facts = {
            "renewal_date": customer.renewal_date.isoformat() if customer.renewal_date else None,
            "uti_stay_id": stay.pk,
            "trigger_on": stay.started_on.isoformat(),
            "trigger_ends_on": stay.ends_on.isoformat(),
            "fallback_user_id": owner.pk,
        }
        run = Run(
            playbook=playbook,
            version=version,
            customer=customer,
            started_at=started,
            started_by=None,
            trigger_key=f"uti:{stay.pk}",
            facts=facts,
            current_step=len(version.steps),
        )
        if stay.exited_on:
            run.status, run.ended_at = RunStatus.EXITED, moment(stay.exited_on, 14)
            run.exit_reason = _("exit goal reached")
        else:
            wait = version.steps[-1] if version.steps else {}
            run.next_due_at = step_rules.wait_end(wait, now=started, facts=facts)
        run_tasks = []
        for index, step in enumerate(version.steps):
            if step.get("kind") != step_rules.StepKind.TASK:
                continue
            due = step_rules.task_due(step, today=stay.started_on, facts=facts)
            week = index + 1
            done = (
                step.get("due_from") == "trigger"
                and week in request.uti_checkins_done
                and due < today
                and (stay.exited_on is None or due < stay.exited_on)
            )
            status = TaskStatus.DONE if done else TaskStatus.CANCELLED if stay.exited_on else TaskStatus.OPEN
            with in_language_of(owner):
                title = task_text.fill(step.get("title", ""), customer=customer, facts=facts)
            completed = moment(due, 15) if done else moment(stay.exited_on, 14) if stay.exited_on else None
            run_tasks.append(
                (
                    index,
                    Task(
                        customer=customer,
                        owner=owner,
                        due_date=due,
                        origin="playbook",
                        title=title,
                        status=status,
                        completed_at=completed,
                    ),
                )
            )
        found.append((run, run_tasks))
    return found


def _uti_run_steps(run: Run, run_tasks: list[tuple[int, Task]]) -> list[RunStep]:
    by_index = dict(run_tasks)
    steps = []
    for index, step in enumerate(run.version.steps):
        task = by_index.get(index)
        kind = step.get("kind", "")
        outcome = StepOutcome.TASK_CREATED if task is not None else StepOutcome.WAITED
        done_at = run.next_due_at if kind == step_rules.StepKind.WAIT and run.next_due_at else run.started_at
        steps.append(
            RunStep(
                run=run, index=index, kind=kind, started_at=run.started_at, done_at=done_at, outcome=outcome, task=task
            )
        )
    return steps


CHURN_PLAYBOOK = "churn-request"
OVERDUE_PLAYBOOK = "overdue-payment"


def _live(key: str) -> Playbook | None:
    """The default playbook ``key`` when it is active (as the services would find it), else nothing."""
    playbook = Playbook.objects.filter(key=key, status=PlaybookStatus.ACTIVE).select_related("live_version").first()
    return playbook if playbook is not None and playbook.live_version is not None else None


def _play_runs(key: str, occurrences: list[tuple]) -> list[tuple[Run, list[tuple[int, Task]]]]:
    """What a one-shot default playbook ("Churn request", "Overdue payment": conditions that held, then tasks) did
    for each occurrence ``(customer, owner, trigger_key, day, facts, status, completed_at)``: a run started on that
    day and completed at once, with its tasks (done when the plan says so)."""
    playbook = _live(key)
    if playbook is None:
        return []
    version = playbook.live_version
    found = []
    for customer, owner, trigger_key, day, facts, status, completed_at in occurrences:
        started = moment(day, 9)
        facts = {"renewal_date": customer.renewal_date.isoformat() if customer.renewal_date else None, **facts}
        run = Run(
            playbook=playbook,
            version=version,
            customer=customer,
            started_at=started,
            trigger_key=trigger_key,
            facts=facts,
            current_step=len(version.steps),
            status=RunStatus.COMPLETED,
            ended_at=started,
            exit_reason=_("all steps done"),
        )
        run_tasks = []
        for index, step in enumerate(version.steps):
            if step.get("kind") != step_rules.StepKind.TASK:
                continue
            with in_language_of(owner):
                title = task_text.fill(step.get("title", ""), customer=customer, facts=facts)
            task = Task(
                customer=customer,
                owner=owner,
                title=title,
                due_date=step_rules.task_due(step, today=day, facts=facts),
                origin="playbook",
                status=status,
                completed_at=completed_at,
            )
            run_tasks.append((index, task))
        found.append((run, run_tasks))
    return found


def _play_run_steps(run: Run, run_tasks: list[tuple[int, Task]]) -> list[RunStep]:
    by_index = dict(run_tasks)
    return [
        RunStep(
            run=run,
            index=index,
            kind=step.get("kind", ""),
            started_at=run.started_at,
            done_at=run.started_at,
            outcome=StepOutcome.TASK_CREATED if index in by_index else StepOutcome.CONDITION_MET,
            task=by_index.get(index),
        )
        for index, step in enumerate(run.version.steps)
    ]


def write_in_bulk(plans: list[CustomerPlan], ctx: Context) -> None:
    """Insert a chunk of planned customers with a fixed number of queries, mirroring what the services
    would have written (rows, automatic tasks, timeline), and their ledger from ``compute_movements``."""
    today, people = ctx.today, ctx.people
    batch = 2000
    lines_rows: list[list[tuple[Line, list[Subscription]]]] = []
    customers = []
    for plan in plans:
        per_line = []
        for line in plan.lines:
            subscriptions = []
            for row in line.rows():
                subscriptions.append(
                    Subscription(
                        product=line.product,
                        plan=line.plan,
                        amount_cents=row["amount"],
                        billing_period=line.billing,
                        status=row["final"],
                        is_trial=row["status"] == SubscriptionStatus.TRIAL,
                        start_date=row["start"],
                        end_date=row["end"],
                        delinquent_since=line.delinquent_since
                        if row["final"] == SubscriptionStatus.DELINQUENT
                        else None,
                        created_at=moment(row["start"]),
                    )
                )
            per_line.append((line, subscriptions))
        lines_rows.append(per_line)
        everything = [s for _, subscriptions in per_line for s in subscriptions]
        touches = [
            moment(t.on, t.hour)
            for t in plan.touches
            if t.kind in (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL)
        ]
        changed_on = plan.transitions[-1][0] if plan.transitions else plan.start
        customers.append(
            Customer(
                name=plan.name,
                cnpj=plan.cnpj,
                segment=plan.segment,
                plan_tier=plan.plan_tier,
                service_model=plan.service_model,
                stage=plan.stage,
                stage_changed_at=moment(changed_on),
                owner=people[plan.owner],
                implementation_manager=people[plan.ism] if plan.ism else None,
                farmer=people[plan.farmer] if plan.farmer else None,
                start_date=plan.start,
                renewal_date=plan.renewal,
                external_id=plan.external_id,
                mrr_cents=ledger.mrr_on(everything, today),
                last_touch_at=max(touches, default=None),
                created_at=moment(plan.start, 8),
            )
        )
    Customer.objects.bulk_create(customers, batch_size=batch)

    # Subscriptions go in by generation, so each replacing row can point at the row it replaces.
    generation = 0
    while True:
        rows = []
        for customer, per_line in zip(customers, lines_rows, strict=True):
            for _line, subscriptions in per_line:
                if generation < len(subscriptions):
                    subscription = subscriptions[generation]
                    subscription.customer = customer
                    subscription.replaces = subscriptions[generation - 1] if generation else None
                    rows.append(subscription)
        if not rows:
            break
        Subscription.objects.bulk_create(rows, batch_size=batch)
        generation += 1

    periods, contacts, movements, milestones, handoffs, reviews, requests, opportunities, links = ([] for _ in range(9))
    for service_model in {plan.service_model for plan in plans}:
        milestone_templates_ensure(service_model)
    templates = {service_model: milestone_templates_active(service_model) for service_model in ServiceModel.values}
    activities: list[Activity] = []
    tasks: list[Task] = []
    overdue: list[tuple] = []
    later: list[tuple[CustomerPlan, Customer, list[tuple[Line, list[Subscription]]], list[ChurnRequest]]] = []
    for plan, customer, per_line in zip(plans, customers, lines_rows, strict=True):
        owner, ism = people[plan.owner], people[plan.ism] if plan.ism else None
        first_value_days, first_success_days = ctx.policies[plan.service_model][:2]
        everything = [s for _, subscriptions in per_line for s in subscriptions]

        def log(kind, title, on: date, author=owner, body="", hour=9, customer=customer, data=None):
            activities.append(
                Activity(
                    customer=customer,
                    kind=kind,
                    title=str(title)[:200],
                    body=body,
                    author=author,
                    happened_at=moment(on, hour),
                    data=data or {},
                )
            )

        periods.append(OwnershipPeriod(customer=customer, owner=owner, started_at=moment(plan.start)))
        contacts += [
            Contact(customer=customer, name=c.name, email=c.email, phone=c.phone, role=c.role) for c in plan.contacts
        ]
        movements += ledger.movement_rows(customer, ledger.compute_movements(everything, until=today), [])
        links += [Customer.tags.through(customer_id=customer.pk, tag_id=ctx.tags[t].pk) for t in plan.tags]
        creator = ism or people[LEADER_KEY]  # as _write_with_services creates it
        log(ActivityKind.SYSTEM, _("Customer created, onboarding started"), plan.start, author=creator, hour=8)

        # One milestone per active template, as customer_create gives them: the others are due, and reached, with
        # first success.
        reached = {MilestoneKind.FIRST_VALUE: plan.first_value_on, MilestoneKind.FIRST_SUCCESS: plan.first_success_on}
        due = {MilestoneKind.FIRST_VALUE: first_value_days, MilestoneKind.FIRST_SUCCESS: first_success_days}
        for template in templates[plan.service_model]:
            kind, description = template.kind, str(template)
            days = due.get(kind, first_success_days)
            achieved = reached.get(kind, plan.first_success_on)
            target = plan.start + timedelta(days=days)
            milestones.append(
                Milestone(
                    customer=customer,
                    template=template,
                    kind=kind,
                    description=description,
                    target_date=target,
                    achieved_on=achieved,
                )
            )
            if achieved:
                title = _("Milestone reached late: %(m)s") if achieved > target else _("Milestone reached: %(m)s")
                log(
                    ActivityKind.MILESTONE,
                    title % {"m": description if kind == MilestoneKind.OTHER else label(MilestoneKind, kind)},
                    achieved,
                    author=ism or owner,
                    body=description,
                )

        for line, subscriptions in per_line:
            name = f"{line.product} {line.plan}".strip()
            log(ActivityKind.SUBSCRIPTION, _("New subscription: %(sub)s") % {"sub": name}, line.start)
            for previous, current in itertools.pairwise(subscriptions):
                log(
                    ActivityKind.SUBSCRIPTION,
                    _("Subscription changed: %(sub)s, %(before)s → %(after)s a month")
                    % {"sub": name, "before": reais(previous.monthly_cents), "after": reais(current.monthly_cents)},
                    current.start_date,
                )
            if line.end and not line.ended_by_churn:
                log(ActivityKind.SUBSCRIPTION, _("Subscription cancelled: %(sub)s") % {"sub": name}, line.end)
            if line.delinquent_since:
                log(
                    ActivityKind.SUBSCRIPTION,
                    _("Payment overdue: %(sub)s") % {"sub": name},
                    line.delinquent_since,
                    author=None,
                )
                # the "Overdue payment" playbook's follow-up, the next day
                since = line.delinquent_since
                overdue.append(
                    (
                        customer,
                        owner,
                        f"delinquency:{subscriptions[-1].pk}:{since.isoformat()}",
                        since,
                        {"subscription_id": subscriptions[-1].pk, "delinquent_since": since.isoformat()},
                        TaskStatus.OPEN,
                        None,
                    )
                )

        if plan.handoff:
            held = plan.handoff["held_on"]
            handoffs.append(
                Handoff(
                    customer=customer,
                    from_user=ism or owner,
                    to_user=owner,
                    completed_at=moment(held, 10),
                    **plan.handoff,
                )
            )
            channel = label(HandoffChannel, plan.handoff["channel"])
            log(
                ActivityKind.HANDOFF,
                _("Handoff to %(csm)s (%(channel)s)") % {"csm": owner, "channel": channel},
                held,
                author=ism or owner,
                body=plan.handoff["results"],
                hour=10,
            )
        churned_by = next(
            (c for c in plan.churns if c.outcome == ChurnOutcome.CHURNED or c.uti_exit == UtiExit.CHURNED), None
        )
        notes = {
            (Stage.ONGOING, Stage.UTI): _("Saved from churn: recovery month."),
            (Stage.UTI, Stage.ONGOING): UTI_EXIT_NOTES[UtiExit.RECOVERED],
            (Stage.UTI, Stage.CHURNED): str(ctx.reasons[churned_by.reason]) if churned_by else "",
            (Stage.ONGOING, Stage.CHURNED): str(ctx.reasons[churned_by.reason]) if churned_by else "",
            (Stage.CHURNED, Stage.ONGOING): _("Reactivated: paying again."),
        }
        for day, before, after in plan.transitions:
            title = _("Stage: %(from)s → %(to)s") % {"from": label(Stage, before), "to": label(Stage, after)}
            by = ism or owner if before == Stage.ONBOARDING else owner
            stages = {"from": str(before), "to": str(after)}  # as the services log it: the past stage is read from it
            log(
                ActivityKind.STAGE_CHANGE,
                title,
                day,
                author=by,
                body=notes.get((before, after), ""),
                hour=10,
                data=stages,
            )

        goals: list[str] = []
        for review in plan.reviews:
            answers = {"carried_goals": goals, "past": review.past, "future": review.future}
            reviews.append(
                SuccessReview(
                    customer=customer,
                    owner=owner,
                    due_date=review.due,
                    held_on=review.held_on,
                    status=ReviewStatus.DONE,
                    answers=answers,
                    goals=review.goals,
                    outcome=review.outcome,
                )
            )
            goals = review.goals
            log(ActivityKind.REVIEW, _("Success review held"), review.held_on, body=review.outcome)
        if plan.review_due:
            reviews.append(
                SuccessReview(
                    customer=customer, owner=owner, due_date=plan.review_due, answers={"carried_goals": goals}
                )
            )
        for due, carried in plan.cancelled_reviews:
            reviews.append(
                SuccessReview(
                    customer=customer,
                    owner=owner,
                    due_date=due,
                    status=ReviewStatus.CANCELLED,
                    answers={"carried_goals": carried},
                )
            )

        created_requests = []
        for request in plan.churns:
            reason = ctx.reasons[request.reason]
            churn_request = ChurnRequest(
                customer=customer,
                kind=request.kind,
                reason=reason,
                detail=request.detail,
                requested_by=request.requested_by,
                requested_on=request.requested_on,
                mrr_at_risk_cents=ledger.mrr_on(everything, request.requested_on),
                opened_by=None if request.kind == ChurnKind.INVOLUNTARY else owner,
                outcome=request.outcome,
                resolved_at=moment(request.resolved_on) if request.resolved_on else None,
                created_at=moment(request.requested_on),
            )
            requests.append(churn_request)
            created_requests.append(churn_request)
            title = _("Churn request (%(kind)s): %(reason)s") % {
                "kind": label(ChurnKind, request.kind),
                "reason": reason,
            }
            log(
                ActivityKind.CHURN_REQUEST,
                title,
                request.requested_on,
                author=churn_request.opened_by,
                body=request.detail,
            )
            for day, offer in request.offers:
                log(ActivityKind.CHURN_REQUEST, _("Save attempt"), day, body=offer)
            if request.outcome in (ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL):
                title = _("Churn request reversed: %(outcome)s") % {"outcome": label(ChurnOutcome, request.outcome)}
                log(ActivityKind.CHURN_REQUEST, title, request.resolved_on, hour=11)

        for opportunity in plan.opportunities:
            opportunities.append(
                ExpansionOpportunity(
                    customer=customer,
                    kind=opportunity.kind,
                    source=opportunity.source,
                    title=opportunity.title,
                    mrr_cents=opportunity.mrr,
                    stage=opportunity.stage,
                    owner=people[plan.farmer] if plan.farmer else owner,
                    created_at=moment(opportunity.created_on),
                    closed_at=moment(opportunity.closed_on) if opportunity.closed_on else None,
                )
            )
            log(
                ActivityKind.EXPANSION,
                _("Expansion opportunity: %(title)s") % {"title": opportunity.title},
                opportunity.created_on,
            )

        for touch in plan.touches:
            log(touch.kind, touch.title, touch.on, author=people[touch.author], body=touch.body, hour=touch.hour)
        for task in plan.tasks:
            tasks.append(
                Task(
                    customer=customer,
                    owner=people[task.owner],
                    title=task.title,
                    due_date=task.due,
                    notes=task.notes,
                    status=TaskStatus.DONE if task.done_on else TaskStatus.OPEN,
                    completed_at=moment(task.done_on, 16) if task.done_on else None,
                    created_by=owner,
                    created_at=moment(task.created_on, 8),
                )
            )
        later.append((plan, customer, per_line, created_requests))

    OwnershipPeriod.objects.bulk_create(periods, batch_size=batch)
    Contact.objects.bulk_create(contacts, batch_size=batch)
    MrrMovement.objects.bulk_create(movements, batch_size=batch)
    Customer.tags.through.objects.bulk_create(links, batch_size=batch)
    Milestone.objects.bulk_create(milestones, batch_size=batch)
    Handoff.objects.bulk_create(handoffs, batch_size=batch)
    SuccessReview.objects.bulk_create(reviews, batch_size=batch)
    ChurnRequest.objects.bulk_create(requests, batch_size=batch)
    ExpansionOpportunity.objects.bulk_create(opportunities, batch_size=batch)

    # What hangs off churn requests: save attempts, UTI stays and the tasks the services would have created.
    attempts, stays, stay_tasks, churn_plays = [], [], [], []
    for plan, customer, _per_line, created_requests in later:
        owner = people[plan.owner]
        uti_days = ctx.policies[plan.service_model][4]
        for request, churn_request in zip(plan.churns, created_requests, strict=True):
            attempts += [
                SaveAttempt(churn_request=churn_request, offer=offer, by=owner, made_at=moment(day, 14))
                for day, offer in request.offers
            ]
            # the "Churn request" playbook's task, due the day it was opened and done when it was closed
            churn_plays.append(
                (
                    customer,
                    owner,
                    f"churn_request:{churn_request.pk}",
                    request.requested_on,
                    {"churn_request_id": churn_request.pk},
                    TaskStatus.OPEN if request.outcome == ChurnOutcome.OPEN else TaskStatus.DONE,
                    moment(request.resolved_on, 11) if request.resolved_on else None,
                )
            )
            if request.outcome in (ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL):
                stay = UtiStay(
                    customer=customer,
                    churn_request=churn_request,
                    started_on=request.resolved_on,
                    ends_on=request.resolved_on + timedelta(days=uti_days),
                    exit=request.uti_exit or UtiExit.OPEN,
                    exited_on=request.uti_exit_on,
                    exit_notes=UTI_EXIT_NOTES[request.uti_exit] if request.uti_exit else "",
                )
                stays.append(stay)
                stay_tasks.append((plan, customer, request, stay))
    SaveAttempt.objects.bulk_create(attempts, batch_size=batch)
    UtiStay.objects.bulk_create(stays, batch_size=batch)
    runs = _uti_runs(stay_tasks, people, today)
    plays = _play_runs(CHURN_PLAYBOOK, churn_plays) + _play_runs(OVERDUE_PLAYBOOK, overdue)
    # their ids name their tasks
    Run.objects.bulk_create([run for run, _run_tasks in runs + plays], batch_size=batch)
    for run, run_tasks in runs + plays:
        for index, task in run_tasks:
            task.origin_key = f"playbook:{run.pk}:{index}"
            tasks.append(task)
    Task.objects.bulk_create(tasks, batch_size=batch)
    RunStep.objects.bulk_create(
        [step for run, run_tasks in runs for step in _uti_run_steps(run, run_tasks)]
        + [step for run, run_tasks in plays for step in _play_run_steps(run, run_tasks)],
        batch_size=batch,
    )
    Activity.objects.bulk_create(activities, batch_size=batch)
