"""The playbook engine: enrolling customers, advancing runs one step at a time, ending them.

Exactly once, end to end:

* **Enrolling** creates at most one open run per customer and playbook (a partial unique constraint; a
  second enrolment finds it and does nothing), none within the cool-down after a run ended, and, for the
  daily date triggers, one per occurrence (``trigger_key``: the renewal date, the review).
* **Advancing** locks the run's row (``select_for_update(skip_locked=True)``: another worker advancing it is
  left alone) and runs ONE step in that transaction: the step's ``RunStep`` row (unique per run and index),
  its task (``task_create`` with ``origin_key=playbook:<run>:<index>``) and the run's pointer commit
  together or not at all. A worker killed mid-step leaves the step undone and the next advance runs it; a
  job run twice finds the pointer moved on (or the row locked) and runs nothing again. An email step writes
  its emails (``StepEmail``, unique per run, step and contact) in the same transaction; ``playbooks.mailing``
  sends them.
* **Ending** (the exit goal reached, the customer churned, a condition no longer holding) cancels the run's
  open tasks with a note.

Who may act is checked by the callers in ``playbooks.services`` (people) or is Leme itself (events, beat).
"""

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from core import clock
from playbooks import emails, mailing, task_text
from playbooks import steps as step_rules
from playbooks.audience import audience_q, not_recently_run_q, team_q
from playbooks.models import (
    DATE_TRIGGERS,
    OPEN_RUN_STATUSES,
    ExitGoal,
    Playbook,
    PlaybookStatus,
    Run,
    RunStatus,
    RunStep,
    StepOutcome,
    TriggerKind,
)
from portfolio import services as portfolio_services
from portfolio.models import ChurnOutcome, ContactRole, Customer, ReviewStatus, Stage, SuccessReview, UtiExit
from surveys import answers

logger = logging.getLogger(__name__)

TASK_ORIGIN = "playbook"
# How many steps one advance of one run takes at most: waits stop it anyway; this bounds a long list of
# tasks so one run never holds a worker for long.
MAX_STEPS_PER_ADVANCE = 50


def origin_key(run_id: int, index: int) -> str:
    return f"playbook:{run_id}:{index}"


def run_id_from_origin_key(key: str | None) -> int | None:
    """The run a playbook task's ``origin_key`` names (``playbook:<run>:<index>``)."""
    parts = (key or "").split(":")
    if len(parts) == 3 and parts[0] == TASK_ORIGIN and parts[1].isdigit():
        return int(parts[1])
    return None


# --- Enrolling ------------------------------------------------------------------------------------------------


def _start_facts(customer: Customer, facts: dict | None) -> dict:
    base = {"renewal_date": customer.renewal_date.isoformat() if customer.renewal_date else None}
    return {**base, **(facts or {})}


def enrol(
    *,
    playbook: Playbook,
    customer_id: int,
    trigger_key: str = "",
    facts: dict | None = None,
    started_by: User | None = None,
) -> Run | None:
    """Start ``playbook`` (its live version) on a customer, or do nothing: the playbook is not active, the
    customer is outside its team or audience, already in it, within its cool-down, or already enrolled for
    this ``trigger_key``. Returns the new run."""
    version = playbook.live_version
    if playbook.status != PlaybookStatus.ACTIVE or version is None:
        return None
    now = clock.now()
    customer = (
        Customer.objects.filter(pk=customer_id)
        .filter(team_q(playbook), audience_q(version), not_recently_run_q(playbook, now))
        .first()
    )
    if customer is None:
        return None
    if trigger_key and Run.objects.filter(playbook=playbook, customer=customer, trigger_key=trigger_key).exists():
        return None
    try:
        with transaction.atomic():
            return Run.objects.create(
                playbook=playbook,
                version=version,
                customer=customer,
                started_at=now,
                started_by=started_by,
                trigger_key=trigger_key,
                facts=_start_facts(customer, facts),
                next_due_at=now,
            )
    except IntegrityError:
        return None  # another enrolment got there first: one open run per customer and playbook


def playbooks_triggered_by(kind: str, **params) -> list[Playbook]:
    """Active playbooks whose live version starts on ``kind`` with these parameters (a stage, a band)."""
    found = (
        Playbook.objects.filter(status=PlaybookStatus.ACTIVE, live_version__trigger_kind=kind)
        .select_related("live_version")
        .order_by("pk")
    )
    return [
        p
        for p in found
        if all(
            not p.live_version.trigger_params.get(k) or p.live_version.trigger_params.get(k) == v
            for k, v in params.items()
        )
    ]


def enrol_on_event(
    kind: str,
    *,
    customer_id: int,
    trigger_key: str = "",
    facts: dict | Callable[[], dict] | None = None,
    **params,
) -> list[Run]:
    """Enrol a customer in every active playbook an event triggers, and run the steps due at once. ``facts``
    may be a function: it is called (once) only when some playbook is triggered, so an event no playbook
    listens to costs one query."""
    runs = []
    playbooks = playbooks_triggered_by(kind, **params)
    if playbooks and callable(facts):
        facts = facts()
    for playbook in playbooks:
        run = enrol(playbook=playbook, customer_id=customer_id, trigger_key=trigger_key, facts=facts)
        if run is not None:
            runs.append(run)
            run_advance(run.pk)
    return runs


# --- Advancing ------------------------------------------------------------------------------------------------


def current_band(customer: Customer, facts: dict) -> str:
    """The band people see on the customer now (health writes it nightly, an override's while one is in force),
    or, before any score, the last band the run heard of from HealthBandChanged."""
    return customer.health_band or facts.get("band", "")


def goal_reached(run: Run, customer: Customer) -> bool:
    """Whether the run's exit goal holds now."""
    goal = run.version.exit_goal
    if goal == ExitGoal.BACK_TO_GREEN:
        return current_band(customer, run.facts) == "green"
    if goal == ExitGoal.RENEWED:
        start = run.facts.get("renewal_date")
        return bool(customer.renewal_date and start and customer.renewal_date.isoformat() > start)
    if goal == ExitGoal.CHURN_REQUEST_CLOSED:
        return not customer.churn_requests.filter(outcome=ChurnOutcome.OPEN).exists()
    if goal == ExitGoal.UTI_LEFT:
        return not customer.uti_stays.filter(exit=UtiExit.OPEN).exists()
    if goal == ExitGoal.ONBOARDING_DONE:
        return customer.stage != Stage.ONBOARDING
    if goal == ExitGoal.TOUCH_LOGGED:
        return customer.last_touch_at is not None and customer.last_touch_at >= run.started_at
    return False


def _lock_due(run_id: int, now: datetime) -> Run | None:
    return (
        Run.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(
            "version",
            "customer__owner__team__leader",
            "customer__implementation_manager__team__leader",
            "customer__farmer",
        )
        .filter(pk=run_id, status=RunStatus.ACTIVE, next_due_at__lte=now)
        .first()
    )


def _assignee(run: Run, customer: Customer, role: str) -> User | None:
    """The person in ``role``; when the customer has nobody in it, the person who caused the trigger, if the
    run knows them (a save recorded on a customer without a CSM: the one who recorded it follows it up)."""
    person = step_rules.assignee_for(customer, role)
    if person is None and run.facts.get("fallback_user_id"):
        person = User.objects.filter(pk=run.facts["fallback_user_id"], is_active=True).first()
    return person


def _end(run: Run, *, status: str, reason: str, now: datetime, cancel_tasks: bool) -> None:
    run.status = status
    run.ended_at = now
    run.exit_reason = reason[:200]
    run.next_due_at = None
    run.save(update_fields=["status", "ended_at", "exit_reason", "next_due_at"])
    if cancel_tasks:
        language_note = _("Cancelled: the playbook “%(playbook)s” ended for this customer (%(reason)s).") % {
            "playbook": run.playbook.name,
            "reason": reason,
        }
        portfolio_services.tasks_cancel(origin_key_prefix=f"{TASK_ORIGIN}:{run.pk}:", note=language_note)


def _run_step(run: Run, now: datetime, today: date) -> None:
    """Run the step at ``run.current_step`` and move the pointer, inside the caller's transaction."""
    steps = run.version.steps
    index = run.current_step
    if index >= len(steps):
        _end(run, status=RunStatus.COMPLETED, reason=_("all steps done"), now=now, cancel_tasks=False)
        return
    if RunStep.objects.filter(run=run, index=index).exists():
        # Already run (a pointer that did not move can only come from a hand-edited row): move on.
        run.current_step = index + 1
        run.save(update_fields=["current_step"])
        return
    step = steps[index]
    kind = step.get("kind")
    customer = run.customer
    row = RunStep(run=run, index=index, kind=kind, started_at=now, done_at=now)
    next_due = now
    ends = False
    if kind == step_rules.StepKind.TASK:
        person = _assignee(run, customer, step.get("assignee", "owner"))
        if person is None:
            row.outcome = StepOutcome.NOBODY_TO_ASSIGN
        else:
            # A task is read by its owner: its fields' fallbacks are in their language.
            with translation.override(person.language or settings.LANGUAGE_CODE):
                title = task_text.fill(step.get("title") or run.playbook.name, customer=customer, facts=run.facts)
                notes = task_text.fill(step.get("description", ""), customer=customer, facts=run.facts)
            row.task = portfolio_services.task_create(
                customer=customer,
                owner=person,
                title=title[:200],
                due_date=step_rules.task_due(step, today=today, facts=run.facts),
                origin=TASK_ORIGIN,
                origin_key=origin_key(run.pk, index),
                notes=notes,
            )
            row.outcome = StepOutcome.TASK_CREATED
            if run.facts.get("response_id"):
                # A run started by a detractor's answer: its first task is the answer's follow-up, which a touch
                # with that contact completes (closing the loop), as the survey pages show.
                answers.follow_up_attach(response_id=run.facts["response_id"], task_id=row.task.pk)
    elif kind == step_rules.StepKind.WAIT:
        next_due = step_rules.wait_end(step, now=now, facts=run.facts)
        row.done_at = next_due
        row.outcome = StepOutcome.WAITED
    elif kind == step_rules.StepKind.CONDITION:
        holds = step_rules.check_holds(
            step.get("check", ""), customer=customer, started_at=run.started_at, facts=run.facts
        )
        row.outcome = StepOutcome.CONDITION_MET if holds else StepOutcome.CONDITION_FAILED
        ends = not holds
    elif not emails.has_text(step):
        row.outcome = StepOutcome.NO_EMAIL_TEXT
    elif mailing.emails_queue(
        run=run, index=index, contact_role=step.get("contact_role", ContactRole.USER), now=now
    ):  # sent by playbooks.mailing, in the send window and under the weekly cap
        row.outcome = StepOutcome.EMAIL_QUEUED
    else:
        row.outcome = StepOutcome.NO_RECIPIENT
    row.save()
    run.current_step = index + 1
    run.next_due_at = next_due
    run.save(update_fields=["current_step", "next_due_at"])
    if ends:
        _end(run, status=RunStatus.COMPLETED, reason=_("the condition no longer held"), now=now, cancel_tasks=False)
    elif run.current_step >= len(steps) and kind != step_rules.StepKind.WAIT:
        # (a final wait ends the run when it has passed, on the advance that finds no step left)
        _end(run, status=RunStatus.COMPLETED, reason=_("all steps done"), now=now, cancel_tasks=False)


def run_advance(run_id: int) -> int:
    """Run the steps of one run that are due now, each in its own transaction. Returns how many ran."""
    done = 0
    while done < MAX_STEPS_PER_ADVANCE:
        now, today = clock.now(), clock.today()
        with transaction.atomic():
            run = _lock_due(run_id, now)
            if run is None:
                break
            if goal_reached(run, run.customer):
                _end(run, status=RunStatus.EXITED, reason=_("exit goal reached"), now=now, cancel_tasks=True)
                break
            _run_step(run, now, today)
        done += 1
    return done


def due_run_ids(limit: int) -> list[int]:
    return list(
        Run.objects.filter(status=RunStatus.ACTIVE, next_due_at__lte=clock.now())
        .order_by("next_due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def runs_advance_due(*, limit: int = 1000) -> int:
    """Advance every due run (up to ``limit``); the beat calls this every few minutes."""
    steps = 0
    for run_id in due_run_ids(limit):
        steps += run_advance(run_id)
    return steps


# --- Ending ------------------------------------------------------------------------------------------------


def run_exit(*, run_id: int, reason: str) -> bool:
    """End an open run early and cancel its open tasks with a note. False when it had already ended."""
    with transaction.atomic():
        run = Run.objects.select_for_update(of=("self",)).select_related("playbook").filter(pk=run_id).first()
        if run is None or not run.is_open:
            return False
        _end(run, status=RunStatus.EXITED, reason=reason, now=clock.now(), cancel_tasks=True)
    return True


def customer_churned(*, customer_id: int) -> int:
    """A churned customer leaves every playbook it is in."""
    ids = Run.objects.filter(customer_id=customer_id, status__in=OPEN_RUN_STATUSES).values_list("pk", flat=True)
    return sum(run_exit(run_id=pk, reason=_("the customer churned")) for pk in list(ids))


def goals_check(*, customer_id: int, facts: dict | None = None) -> int:
    """Something changed for a customer (a band, a churn request, a stage): record the new facts on its open
    runs and end those whose exit goal is now reached. Returns how many ended."""
    ended = 0
    runs = Run.objects.filter(customer_id=customer_id, status__in=OPEN_RUN_STATUSES).select_related(
        "version", "customer", "playbook"
    )
    for run in runs:
        if facts:
            with transaction.atomic():
                locked = Run.objects.select_for_update().get(pk=run.pk)
                locked.facts = {**locked.facts, **facts}
                locked.save(update_fields=["facts"])
            run.facts = locked.facts
        if goal_reached(run, run.customer):
            ended += run_exit(run_id=run.pk, reason=_("exit goal reached"))
    return ended


def churn_request_key(churn_request_id: int) -> str:
    """The ``trigger_key`` of the runs a churn request started."""
    return f"churn_request:{churn_request_id}"


def churn_request_closed(*, churn_request_id: int) -> int:
    """A churn request was closed (saved or churned): the open tasks of the runs it started are done, as the
    request's task always was. The runs then end by their exit goal (or the churn). Returns how many tasks."""
    run_ids = Run.objects.filter(trigger_key=churn_request_key(churn_request_id)).values_list("pk", flat=True)
    return sum(
        portfolio_services.tasks_complete(origin_key_prefix=f"{TASK_ORIGIN}:{run_id}:") for run_id in list(run_ids)
    )


# --- The daily date triggers ---------------------------------------------------------------------------------


def _candidates(playbook: Playbook, today: date, now: datetime) -> list[tuple[int, str]]:
    """(customer id, trigger key) of the customers a date-triggered playbook enrols today, in one query."""
    version = playbook.live_version
    days = int(version.trigger_params.get("days") or 0)
    customers = Customer.objects.filter(team_q(playbook), audience_q(version), not_recently_run_q(playbook, now))
    same_occurrence = Run.objects.filter(playbook_id=playbook.pk)
    if version.trigger_kind == TriggerKind.RENEWAL_IN:
        rows = customers.filter(renewal_date__gte=today, renewal_date__lte=today + timedelta(days=days)).annotate(
            key=Concat(Value("renewal:"), Cast("renewal_date", CharField()))
        )
        rows = rows.filter(~Exists(same_occurrence.filter(customer_id=OuterRef("pk"), trigger_key=OuterRef("key"))))
        return list(rows.values_list("pk", "key"))
    if version.trigger_kind == TriggerKind.REVIEW_DUE_IN:
        reviews = SuccessReview.objects.filter(
            status=ReviewStatus.SCHEDULED,
            due_date__gte=today,
            due_date__lte=today + timedelta(days=days),
            customer__in=customers.values("pk"),
        ).annotate(key=Concat(Value("review:"), Cast("pk", CharField())))
        reviews = reviews.exclude(
            key__in=same_occurrence.filter(trigger_key__startswith="review:").values("trigger_key")
        )
        return list(reviews.values_list("customer_id", "key"))
    # No meaningful touch in N days (a customer never touched counts from its creation).
    last = Coalesce("last_touch_at", "created_at")
    rows = customers.annotate(last=last).filter(last__lt=now - timedelta(days=days))
    return [(pk, "no_touch") for pk in rows.values_list("pk", flat=True)]


def date_triggers_check(*, today: date | None = None) -> int:
    """Enrol, set-based, the customers every active date-triggered playbook reaches today: one query to
    find them and one insert per playbook. Their steps run on the next advance. Returns how many enrolled."""
    today = today or clock.today()
    now = clock.now()
    enrolled = 0
    playbooks = Playbook.objects.filter(
        status=PlaybookStatus.ACTIVE, live_version__trigger_kind__in=DATE_TRIGGERS
    ).select_related("live_version")
    for playbook in playbooks:
        rows = _candidates(playbook, today, now)
        if not rows:
            continue
        renewal = dict(Customer.objects.filter(pk__in=[pk for pk, _key in rows]).values_list("pk", "renewal_date"))
        new = [
            Run(
                playbook=playbook,
                version=playbook.live_version,
                customer_id=customer_id,
                started_at=now,
                trigger_key=key,
                facts={"renewal_date": renewal[customer_id].isoformat() if renewal.get(customer_id) else None},
                next_due_at=now,
            )
            for customer_id, key in rows
        ]
        # ON CONFLICT DO NOTHING: a customer enrolled meanwhile (an event, a person) keeps that one run.
        Run.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
        enrolled += len(new)
        logger.info("playbook date trigger", extra={"playbook_id": playbook.pk, "candidates": len(rows)})
    return enrolled
