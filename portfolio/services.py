"""Every write about customers and their journey. Views, the API, the import, tasks and commands call
these functions; the journey's rules live here and nowhere else."""

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import can_create_customers, can_reassign, ensure_can_write
from accounts.models import OWNER_ROLES, Role, User
from portfolio import events, ledger
from portfolio.models import (
    BILLING_MONTHS,
    HUMAN_TOUCHES,
    RUNNING_STATUSES,
    Activity,
    ActivityKind,
    ChurnKind,
    ChurnOutcome,
    ChurnReason,
    ChurnRequest,
    Contact,
    Customer,
    ExpansionOpportunity,
    Handoff,
    HandoffChannel,
    Milestone,
    MilestoneKind,
    OpportunityKind,
    OpportunityStage,
    OwnershipPeriod,
    ReviewStatus,
    SaveAttempt,
    ServiceModel,
    ServiceModelPolicy,
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
from portfolio.taxonomy import INVOLUNTARY_REASON, POLICIES


def policy_for(service_model: str) -> ServiceModelPolicy:
    policy = ServiceModelPolicy.objects.filter(service_model=service_model).first()
    if policy is None:
        defaults = {p[0]: p for p in POLICIES}[service_model]
        policy = ServiceModelPolicy(
            service_model=service_model,
            first_value_days=defaults[1],
            first_success_days=defaults[2],
            review_every_months=defaults[3],
            handoff_by_meeting=defaults[4],
            uti_days=defaults[5],
        )
    return policy


# --- Timeline -----------------------------------------------------------------------------------------


def activity_log(
    *,
    customer: Customer,
    kind: str,
    title: str,
    body: str = "",
    author: User | None = None,
    happened_at=None,
    data: dict | None = None,
    external_id: str | None = None,
) -> Activity:
    """Add an entry to the customer's timeline. A call, meeting or email also counts as the last touch.
    With an ``external_id`` (an entry sent by another system) it is idempotent."""
    ensure_can_write(author)
    if external_id:
        existing = Activity.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise ValidationError({"external_id": _("Another timeline entry already uses this external id.")})
            return existing
    happened_at = happened_at or timezone.now()
    activity = Activity.objects.create(
        customer=customer,
        kind=kind,
        title=title[:200],
        body=body,
        author=author,
        happened_at=happened_at,
        data=data or {},
        external_id=external_id,
    )
    if kind in HUMAN_TOUCHES:
        if customer.last_touch_at is None or happened_at > customer.last_touch_at:
            customer.last_touch_at = happened_at
            Customer.objects.filter(pk=customer.pk).update(last_touch_at=happened_at)
        events.publish(
            events.TouchLogged(
                customer_id=customer.pk, activity_id=activity.pk, author_id=author.pk if author else None
            )
        )
    return activity


# --- Tasks --------------------------------------------------------------------------------------------


def task_create(
    *,
    customer: Customer,
    owner: User,
    title: str,
    due_date: date,
    origin: str = "manual",
    origin_key: str | None = None,
    notes: str = "",
    created_by: User | None = None,
) -> Task:
    """Create a task. With an ``origin_key`` it is idempotent: the same event yields the same task."""
    ensure_can_write(created_by)
    if origin_key:
        existing = Task.objects.filter(origin_key=origin_key).first()
        if existing:
            return existing
    try:
        with transaction.atomic():
            return Task.objects.create(
                customer=customer,
                owner=owner,
                title=title[:200],
                due_date=due_date,
                origin=origin,
                origin_key=origin_key,
                notes=notes,
                created_by=created_by,
            )
    except IntegrityError:
        if origin_key:
            return Task.objects.get(origin_key=origin_key)
        raise


def task_complete(*, task: Task, actor: User) -> Task:
    ensure_can_write(actor)
    if task.status == TaskStatus.OPEN:
        task.status = TaskStatus.DONE
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "completed_at"])
    return task


# --- Customers ------------------------------------------------------------------------------------------


def _onboarding_milestones(customer: Customer, policy: ServiceModelPolicy) -> None:
    Milestone.objects.bulk_create(
        [
            Milestone(
                customer=customer,
                kind=MilestoneKind.FIRST_VALUE,
                description=_("First value: the first concrete sign the product delivers"),
                target_date=customer.start_date + timedelta(days=policy.first_value_days),
            ),
            Milestone(
                customer=customer,
                kind=MilestoneKind.FIRST_SUCCESS,
                description=_("First success: the onboarding's concrete result"),
                target_date=customer.start_date + timedelta(days=policy.first_success_days),
            ),
        ]
    )


@transaction.atomic
def customer_create(
    *,
    name: str,
    actor: User | None,
    owner: User | None = None,
    implementation_manager: User | None = None,
    farmer: User | None = None,
    cnpj: str = "",
    segment: str = "smb",
    plan_tier: str = "pro",
    service_model: str = ServiceModel.LOW_TOUCH,
    start_date: date | None = None,
    renewal_date: date | None = None,
    external_id: str | None = None,
    tags: Iterable = (),
) -> Customer:
    """A new customer starts in onboarding under its ISM, with first value and first success milestones
    dated by its service model's policy. Raises PermissionDenied for someone who may not create customers
    (the page, the API and the import all come through here)."""
    ensure_can_write(actor)
    if actor is not None and not can_create_customers(actor):
        raise PermissionDenied(_("Only admins, leaders and implementation managers create customers."))
    from portfolio.validators import cnpj_digits

    if actor is not None and not actor.is_admin and not (owner or implementation_manager or farmer):
        # Someone must answer for every customer, or its creator would lose sight of it: default to them.
        if actor.role == Role.ISM:
            implementation_manager = actor
        else:
            owner = actor
    customer = Customer(
        name=name.strip(),
        cnpj=cnpj_digits(cnpj),
        segment=segment,
        plan_tier=plan_tier,
        service_model=service_model,
        stage=Stage.ONBOARDING,
        owner=owner,
        implementation_manager=implementation_manager,
        farmer=farmer,
        start_date=start_date or timezone.localdate(),
        renewal_date=renewal_date,
        external_id=external_id or None,
    )
    customer.full_clean(exclude=["tags"])
    customer.save()
    if tags:
        customer.tags.set(tags)
    if owner is not None:
        OwnershipPeriod.objects.create(customer=customer, owner=owner)
    _onboarding_milestones(customer, policy_for(service_model))
    activity_log(
        customer=customer, kind=ActivityKind.SYSTEM, title=_("Customer created, onboarding started"), author=actor
    )
    events.publish(events.CustomerCreated(customer_id=customer.pk))
    return customer


def customer_update(*, customer: Customer, actor: User, **fields) -> Customer:
    """Change descriptive fields. Stage and owner have their own services."""
    ensure_can_write(actor)
    allowed = {"name", "cnpj", "segment", "plan_tier", "service_model", "renewal_date", "farmer", "external_id"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"customer_update cannot change {sorted(unknown)}")
    from portfolio.validators import cnpj_digits

    if "cnpj" in fields:
        fields["cnpj"] = cnpj_digits(fields["cnpj"] or "")
    if "external_id" in fields:
        fields["external_id"] = fields["external_id"] or None
    for key, value in fields.items():
        setattr(customer, key, value)
    customer.full_clean(exclude=["tags"])
    customer.save()
    return customer


ALLOWED_STAGE_CHANGES = {
    # A customer saved from churn during onboarding also gets its UTI month, then resumes onboarding.
    Stage.ONBOARDING: {Stage.ONGOING, Stage.UTI, Stage.CHURNED},
    Stage.ONGOING: {Stage.UTI, Stage.CHURNED},
    Stage.UTI: {Stage.ONGOING, Stage.ONBOARDING, Stage.CHURNED},
    Stage.CHURNED: {Stage.ONGOING, Stage.ONBOARDING},
}


def _stage_change(*, customer: Customer, to: str, actor: User | None, note: str = "") -> None:
    """Move a customer between stages. Always an event on the timeline; the callers enforce the rules."""
    previous = customer.stage
    if previous == to:
        return
    if to not in ALLOWED_STAGE_CHANGES[previous]:
        raise ValidationError(
            _("A customer cannot go from %(from)s to %(to)s.") % {"from": Stage(previous).label, "to": Stage(to).label}
        )
    if to == Stage.ONGOING and previous == Stage.ONBOARDING and not Handoff.objects.filter(customer=customer).exists():
        raise ValidationError(
            _("A customer cannot move to ongoing without a completed handoff: record the handoff from the ISM first.")
        )
    customer.stage = to
    customer.stage_changed_at = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(stage=to, stage_changed_at=customer.stage_changed_at)
    activity_log(
        customer=customer,
        kind=ActivityKind.STAGE_CHANGE,
        title=_("Stage: %(from)s → %(to)s") % {"from": Stage(previous).label, "to": Stage(to).label},
        body=note,
        author=actor,
        data={"from": previous, "to": to},
    )
    events.publish(events.StageChanged(customer_id=customer.pk, from_stage=previous, to_stage=to))


def customer_move_to_ongoing(*, customer: Customer, actor: User) -> None:
    """Only a completed handoff ends onboarding; this refuses with the reason otherwise."""
    ensure_can_write(actor)
    _stage_change(customer=customer, to=Stage.ONGOING, actor=actor)


def _owner_change(customers: list[Customer], to_owner: User) -> dict[int, User | None]:
    """Give customers a new owner, all at once: ownership periods (so reports know who owned them when),
    the owner, the previous owner's open tasks about them and their scheduled reviews. Returns each
    customer's previous owner by customer id; the customer objects get the new one."""
    now = timezone.now()
    ids = [c.pk for c in customers]
    people = {u.pk: u for u in User.objects.filter(pk__in={c.owner_id for c in customers if c.owner_id})}
    previous = {c.pk: people.get(c.owner_id) for c in customers}
    OwnershipPeriod.objects.filter(customer_id__in=ids, ended_at__isnull=True).update(ended_at=now)
    OwnershipPeriod.objects.bulk_create(OwnershipPeriod(customer=c, owner=to_owner, started_at=now) for c in customers)
    Customer.objects.filter(pk__in=ids).update(owner=to_owner)
    for owner_id in people:
        Task.objects.filter(
            customer_id__in=[c.pk for c in customers if c.owner_id == owner_id],
            owner_id=owner_id,
            status=TaskStatus.OPEN,
        ).update(owner=to_owner)
    SuccessReview.objects.filter(customer_id__in=ids, status=ReviewStatus.SCHEDULED).update(owner=to_owner)
    for customer in customers:
        customer.owner = to_owner
    return previous


@transaction.atomic
def customers_reassign(*, customers: Iterable[Customer], to_owner: User, actor: User, note: str = "") -> int:
    """Move customers to another CSM; ownership periods and the timeline keep who owned them when.
    Open tasks of the previous owner about these customers move along."""
    if not can_reassign(actor):
        raise PermissionDenied(_("Only leaders and admins reassign customers."))
    from accounts.selectors import owner_candidates

    if not owner_candidates(actor).filter(pk=to_owner.pk).exists():
        raise ValidationError({"to_owner": _("You can only assign customers to people of your team.")})
    from portfolio.selectors import customers_changeable_by

    customers = list(customers)
    allowed = set(customers_changeable_by(actor).filter(pk__in=[c.pk for c in customers]).values_list("pk", flat=True))
    if len(allowed) != len({c.pk for c in customers}):
        raise PermissionDenied(_("You can only reassign customers of your own team."))
    moving = [c for c in customers if c.owner_id != to_owner.pk]
    previous = _owner_change(moving, to_owner)
    for customer in moving:
        before = previous.get(customer.pk)
        activity_log(
            customer=customer,
            kind=ActivityKind.OWNER_CHANGE,
            title=_("Owner: %(from)s → %(to)s") % {"from": before or "—", "to": to_owner},
            body=note,
            author=actor,
            data={"from": before.pk if before else None, "to": to_owner.pk},
        )
    return len(moving)


# --- Contacts -----------------------------------------------------------------------------------------


def _contact_fields(fields: dict) -> dict:
    fields = dict(fields)
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip().lower()
    if "external_id" in fields:
        fields["external_id"] = fields["external_id"] or None
    return fields


def contact_create(*, customer: Customer, actor: User | None, **fields) -> Contact:
    ensure_can_write(actor)
    contact = Contact(customer=customer, **_contact_fields(fields))
    contact.full_clean()
    contact.save()
    return contact


def contact_update(*, contact: Contact, actor: User | None, **fields) -> Contact:
    ensure_can_write(actor)
    for key, value in _contact_fields(fields).items():
        setattr(contact, key, value)
    contact.full_clean()
    contact.save()
    return contact


# --- Subscriptions and the MRR ledger -----------------------------------------------------------------------


def _after_subscription_change(customer: Customer, actor: User | None) -> None:
    # The caller's copy may predate a churn: read the stored stage.
    customer.refresh_from_db(fields=["stage"])
    was_churned = customer.stage == Stage.CHURNED
    ledger.sync_customer(customer)
    if was_churned and customer.mrr_cents > 0:
        _stage_change(customer=customer, to=Stage.ONGOING, actor=actor, note=_("Reactivated: paying again."))


@transaction.atomic
def subscription_create(
    *,
    customer: Customer,
    product: str,
    amount_cents: int,
    start_date: date,
    actor: User | None,
    plan: str = "",
    currency: str = "BRL",
    billing_period: str = "monthly",
    status: str = SubscriptionStatus.ACTIVE,
    end_date: date | None = None,
    external_id: str | None = None,
    log: bool = True,
) -> Subscription:
    ensure_can_write(actor)
    subscription = Subscription(
        customer=customer,
        product=product,
        plan=plan,
        amount_cents=amount_cents,
        currency=currency,
        billing_period=billing_period,
        status=status,
        is_trial=status == SubscriptionStatus.TRIAL,
        start_date=start_date,
        end_date=end_date,
        external_id=external_id or None,
    )
    subscription.full_clean()
    subscription.save()
    if log:
        activity_log(
            customer=customer,
            kind=ActivityKind.SUBSCRIPTION,
            title=_("New subscription: %(sub)s") % {"sub": subscription},
            author=actor,
            data={"subscription": subscription.pk, "monthly_cents": subscription.monthly_cents},
        )
    _after_subscription_change(customer, actor)
    return subscription


@transaction.atomic
def subscription_change(
    *,
    subscription: Subscription,
    actor: User | None,
    effective_date: date,
    amount_cents: int | None = None,
    plan: str | None = None,
    billing_period: str | None = None,
    status: str | None = None,
) -> Subscription:
    """Change what a subscription is worth from ``effective_date``: the current row ends that day and a new
    row starts, so every past month can still be recomputed. Returns the new row."""
    ensure_can_write(actor)
    if not subscription.is_current:
        raise ValidationError(_("Only a running subscription can change."))
    if effective_date < subscription.start_date:
        raise ValidationError({"effective_date": _("A change cannot take effect before the subscription started.")})
    customer = subscription.customer
    if effective_date == subscription.start_date:
        # Nothing to keep: the row never ran under its old terms.
        new = subscription
    else:
        external_id = subscription.external_id
        old_status, old_since = subscription.status, subscription.delinquent_since
        subscription.end_date = effective_date
        subscription.status = SubscriptionStatus.REPLACED
        subscription.external_id = None
        subscription.save(update_fields=["end_date", "status", "external_id"])
        new = Subscription(
            customer=customer,
            product=subscription.product,
            plan=subscription.plan,
            amount_cents=subscription.amount_cents,
            currency=subscription.currency,
            billing_period=subscription.billing_period,
            # A trial stays a trial and an overdue subscription stays overdue through a change of terms.
            status=old_status,
            is_trial=subscription.is_trial,
            delinquent_since=old_since,
            start_date=effective_date,
            external_id=external_id,
            replaces=subscription,
        )
    before = subscription.monthly_cents if new is not subscription else new.monthly_cents
    if amount_cents is not None:
        new.amount_cents = amount_cents
    if plan is not None:
        new.plan = plan
    if billing_period is not None:
        new.billing_period = billing_period
    if status is not None:
        new.status = status
        new.is_trial = status == SubscriptionStatus.TRIAL
        if status != SubscriptionStatus.DELINQUENT:
            new.delinquent_since = None
    new.full_clean()
    new.save()
    activity_log(
        customer=customer,
        kind=ActivityKind.SUBSCRIPTION,
        title=_("Subscription changed: %(sub)s, %(before)s → %(after)s a month")
        % {"sub": new, "before": reais(before), "after": reais(new.monthly_cents)},
        author=actor,
        data={"subscription": new.pk, "before_cents": before, "after_cents": new.monthly_cents},
    )
    _after_subscription_change(customer, actor)
    return new


@transaction.atomic
def subscription_cancel(*, subscription: Subscription, actor: User | None, end_date: date, log: bool = True) -> None:
    ensure_can_write(actor)
    if not subscription.is_current:
        raise ValidationError(_("This subscription has already ended."))
    if end_date < subscription.start_date:
        raise ValidationError({"end_date": _("A subscription cannot end before it started.")})
    subscription.end_date = end_date
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.delinquent_since = None
    subscription.save(update_fields=["end_date", "status", "delinquent_since"])
    if log:
        activity_log(
            customer=subscription.customer,
            kind=ActivityKind.SUBSCRIPTION,
            title=_("Subscription cancelled: %(sub)s") % {"sub": subscription},
            author=actor,
            data={"subscription": subscription.pk},
        )
    _after_subscription_change(subscription.customer, actor)


@transaction.atomic
def subscription_mark_delinquent(*, subscription: Subscription, since: date, actor: User | None) -> Task | None:
    """A past-due subscription still counts in MRR; its owner CSM gets a follow-up task."""
    ensure_can_write(actor)
    if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.DELINQUENT):
        raise ValidationError(_("Only an active subscription can become delinquent."))
    if subscription.status == SubscriptionStatus.DELINQUENT:
        return None
    subscription.status = SubscriptionStatus.DELINQUENT
    subscription.delinquent_since = since
    subscription.save(update_fields=["status", "delinquent_since"])
    customer = subscription.customer
    activity_log(
        customer=customer,
        kind=ActivityKind.SUBSCRIPTION,
        title=_("Payment overdue: %(sub)s") % {"sub": subscription},
        author=actor,
        data={"subscription": subscription.pk, "since": since.isoformat()},
    )
    events.publish(events.SubscriptionDelinquent(customer_id=customer.pk, subscription_id=subscription.pk))
    owner = customer.owner or customer.implementation_manager
    if owner is None:
        return None
    return task_create(
        customer=customer,
        owner=owner,
        title=_("Follow up the overdue payment of %(customer)s") % {"customer": customer},
        due_date=timezone.localdate() + timedelta(days=1),
        origin="delinquency",
        origin_key=f"delinquency:{subscription.pk}:{since.isoformat()}",
    )


def subscription_mark_paid(*, subscription: Subscription, actor: User | None) -> None:
    ensure_can_write(actor)
    if subscription.status == SubscriptionStatus.DELINQUENT:
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.delinquent_since = None
        subscription.save(update_fields=["status", "delinquent_since"])
        activity_log(
            customer=subscription.customer,
            kind=ActivityKind.SUBSCRIPTION,
            title=_("Payment regularised: %(sub)s") % {"sub": subscription},
            author=actor,
        )


def ledger_sync_effective(*, days: int = 2, today: date | None = None) -> int:
    """Bring the ledger up to date for subscriptions whose start or end fell in the last ``days`` days."""
    from django.db.models import Q

    today = today or timezone.localdate()
    since = today - timedelta(days=days)
    window = Q(start_date__gt=since, start_date__lte=today) | Q(end_date__gt=since, end_date__lte=today)
    customer_ids = Subscription.objects.filter(window).values_list("customer_id", flat=True).distinct()
    synced = 0
    for customer in Customer.objects.filter(pk__in=customer_ids).iterator(chunk_size=500):
        with transaction.atomic():
            ledger.sync_customer(customer, today=today)
        synced += 1
    return synced


def delinquency_escalate(*, today: date | None = None) -> list[ChurnRequest]:
    """Open an involuntary churn request for each customer still delinquent after the configured days."""
    today = today or timezone.localdate()
    limit = today - timedelta(days=settings.LEME_DELINQUENCY_CHURN_DAYS)
    reason = ChurnReason.objects.get(code=INVOLUNTARY_REASON)
    opened = []
    overdue = (
        Subscription.objects.filter(status=SubscriptionStatus.DELINQUENT, delinquent_since__lte=limit)
        .exclude(customer__churn_requests__outcome=ChurnOutcome.OPEN)
        .exclude(customer__stage=Stage.CHURNED)
        .select_related("customer")
        .order_by("customer_id", "delinquent_since")
    )
    seen: set[int] = set()
    for subscription in overdue:
        if subscription.customer_id in seen:
            continue
        seen.add(subscription.customer_id)
        days = (today - subscription.delinquent_since).days
        with transaction.atomic():
            opened.append(
                churn_request_open(
                    customer=subscription.customer,
                    kind=ChurnKind.INVOLUNTARY,
                    reason=reason,
                    detail=_("%(sub)s unpaid since %(since)s (%(days)s days); opened automatically.")
                    % {"sub": subscription, "since": subscription.delinquent_since.strftime("%d/%m/%Y"), "days": days},
                    requested_by=_("Billing"),
                    actor=None,
                )
            )
    return opened


# --- Onboarding and handoff ----------------------------------------------------------------------------


def milestone_achieve(*, milestone: Milestone, achieved_on: date, actor: User) -> Milestone:
    ensure_can_write(actor)
    milestone.achieved_on = achieved_on
    milestone.save(update_fields=["achieved_on"])
    late = achieved_on > milestone.target_date
    activity_log(
        customer=milestone.customer,
        kind=ActivityKind.MILESTONE,
        title=(_("Milestone reached late: %(m)s") if late else _("Milestone reached: %(m)s"))
        % {"m": milestone.get_kind_display()},
        body=milestone.description,
        author=actor,
        data={"milestone": milestone.pk, "late": late},
    )
    return milestone


@transaction.atomic
def handoff_complete(
    *,
    customer: Customer,
    to_user: User,
    results: str,
    goals: str,
    stakeholders: str,
    channel: str,
    held_on: date,
    actor: User,
    risks: str = "",
) -> Handoff:
    """End onboarding: the ISM hands the customer to its ongoing CSM, and the first success review is
    scheduled by the service model's cadence."""
    ensure_can_write(actor)
    if customer.stage != Stage.ONBOARDING:
        raise ValidationError(_("Only a customer in onboarding can be handed off."))
    policy = policy_for(customer.service_model)
    errors = {}
    for field, value in (("results", results), ("goals", goals), ("stakeholders", stakeholders)):
        if not (value or "").strip():
            errors[field] = _("Say what the next CSM needs to know here.")
    if policy.handoff_by_meeting and channel != HandoffChannel.MEETING:
        errors["channel"] = _("High-touch customers are handed off in a meeting with the customer.")
    if to_user.role not in OWNER_ROLES:
        errors["to_user"] = _("Hand the customer to a CSM.")
    if errors:
        raise ValidationError(errors)
    handoff = Handoff.objects.create(
        customer=customer,
        from_user=customer.implementation_manager or actor,
        to_user=to_user,
        results=results,
        goals=goals,
        risks=risks,
        stakeholders=stakeholders,
        channel=channel,
        held_on=held_on,
    )
    if customer.owner_id != to_user.pk:
        _owner_change([customer], to_user)
    activity_log(
        customer=customer,
        kind=ActivityKind.HANDOFF,
        title=_("Handoff to %(csm)s (%(channel)s)") % {"csm": to_user, "channel": handoff.get_channel_display()},
        body=results,
        author=actor,
        data={"handoff": handoff.pk},
    )
    _stage_change(customer=customer, to=Stage.ONGOING, actor=actor)
    if policy.review_every_months:
        review_schedule(customer=customer, due_date=ledger.add_months(held_on, policy.review_every_months), actor=actor)
    events.publish(events.HandoffCompleted(customer_id=customer.pk, handoff_id=handoff.pk))
    return handoff


# --- Success reviews --------------------------------------------------------------------------------------

REVIEW_TEMPLATE = {
    "past": [
        "Which goals from the last cycle were reached?",
        "What results did the customer get from the product (numbers)?",
        "What got in the way?",
    ],
    "future": [
        "What are the goals for the next cycle?",
        "Which features or practices will get them there?",
        "Who at the customer owns each goal?",
    ],
}


def review_schedule(
    *, customer: Customer, due_date: date, actor: User | None, owner: User | None = None
) -> SuccessReview:
    ensure_can_write(actor)
    owner = owner or customer.owner or actor
    existing = SuccessReview.objects.filter(customer=customer, status=ReviewStatus.SCHEDULED).first()
    if existing:
        existing.due_date = due_date
        existing.owner = owner
        existing.save(update_fields=["due_date", "owner"])
        return existing
    previous = SuccessReview.objects.filter(customer=customer, status=ReviewStatus.DONE).order_by("-held_on").first()
    return SuccessReview.objects.create(
        customer=customer,
        owner=owner,
        due_date=due_date,
        # The goals agreed last time are where the next review starts.
        answers={"carried_goals": previous.goals if previous else []},
    )


@transaction.atomic
def review_complete(
    *,
    review: SuccessReview,
    held_on: date,
    past: list[dict],
    future: list[dict],
    goals: list[str],
    outcome: str,
    actor: User,
) -> SuccessReview:
    """Record a held review and schedule the next one by the service model's cadence."""
    ensure_can_write(actor)
    if review.status != ReviewStatus.SCHEDULED:
        raise ValidationError(_("This review was already recorded."))
    if not any((a.get("a") or "").strip() for a in past + future):
        raise ValidationError(_("Answer at least one question about the past or the future."))
    if not outcome.strip():
        raise ValidationError({"outcome": _("Sum up the review's outcome.")})
    review.held_on = held_on
    review.status = ReviewStatus.DONE
    review.answers = {**review.answers, "past": past, "future": future}
    review.goals = [g.strip() for g in goals if g.strip()]
    review.outcome = outcome
    review.save()
    customer = review.customer
    activity_log(
        customer=customer,
        kind=ActivityKind.REVIEW,
        title=_("Success review held"),
        body=outcome,
        author=actor,
        happened_at=timezone.make_aware(timezone.datetime.combine(held_on, timezone.datetime.min.time()))
        if held_on != timezone.localdate()
        else None,
        data={"review": review.pk},
    )
    policy = policy_for(customer.service_model)
    if policy.review_every_months and customer.stage in (Stage.ONGOING, Stage.UTI):
        review_schedule(customer=customer, due_date=ledger.add_months(held_on, policy.review_every_months), actor=actor)
    events.publish(events.ReviewCompleted(customer_id=customer.pk, review_id=review.pk))
    return review


# --- Churn requests ---------------------------------------------------------------------------------------

VAGUE_PHRASES = [
    "nao quer mais pagar",
    "nao quer pagar",
    "nao viu valor",
    "nao ve valor",
    "sem valor",
    "desconhecido",
    "nao sei",
    "nao informado",
    "sem motivo",
    "outros",
    "outro",
    "doesn't want to pay",
    "doesnt want to pay",
    "does not want to pay",
    "saw no value",
    "sees no value",
    "no value",
    "unknown",
    "other",
    "n/a",
    "cliente",
    "customer",
    "the",
    "o",
    "a",
]
MIN_CONCRETE_LETTERS = 15


def _fold(text: str) -> str:
    # Phones and Macs type typographic apostrophes; fold them so a curly-quoted "doesn't" still matches.
    text = text.translate({0x2019: "'", 0x2018: "'", 0x02BC: "'"})
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def churn_detail_is_vague(detail: str) -> bool:
    """A reason is vague when, without the stock phrases (\"didn't see value\", \"unknown\", \"other\"),
    too little is left to act on."""
    text = f" {_fold(detail)} "
    for phrase in VAGUE_PHRASES:
        text = re.sub(rf"(?<![\w]){re.escape(phrase)}(?![\w])", " ", text)
    return sum(ch.isalpha() for ch in text) < MIN_CONCRETE_LETTERS


@transaction.atomic
def churn_request_open(
    *,
    customer: Customer,
    kind: str,
    reason: ChurnReason,
    detail: str,
    actor: User | None,
    requested_by: str = "",
    requested_on: date | None = None,
) -> ChurnRequest:
    """Record a request to cancel with a structured, concrete reason. Vague reasons are refused."""
    ensure_can_write(actor)
    if customer.stage == Stage.CHURNED:
        raise ValidationError(_("This customer has already churned."))
    if ChurnRequest.objects.filter(customer=customer, outcome=ChurnOutcome.OPEN).exists():
        raise ValidationError(_("This customer already has an open churn request: work on that one."))
    if not reason.active:
        raise ValidationError({"reason": _("This reason is no longer in use; pick another.")})
    if churn_detail_is_vague(detail):
        raise ValidationError(
            {
                "detail": _(
                    "That is too vague to act on. Write the concrete cause: what exactly is missing or changed, "
                    'who decided, and what would have kept them (e.g. "needs integration with SAP B1; the new CFO '
                    'cut tools without it").'
                )
            }
        )
    request = ChurnRequest.objects.create(
        customer=customer,
        kind=kind,
        reason=reason,
        detail=detail.strip(),
        requested_by=requested_by,
        requested_on=requested_on or timezone.localdate(),
        mrr_at_risk_cents=customer.mrr_cents,
        opened_by=actor,
    )
    activity_log(
        customer=customer,
        kind=ActivityKind.CHURN_REQUEST,
        title=_("Churn request (%(kind)s): %(reason)s") % {"kind": request.get_kind_display(), "reason": reason},
        body=request.detail,
        author=actor,
        data={"churn_request": request.pk},
    )
    owner = customer.owner or customer.implementation_manager
    if owner is not None:
        task_create(
            customer=customer,
            owner=owner,
            title=_("Work the churn request of %(customer)s") % {"customer": customer},
            due_date=timezone.localdate(),
            origin="churn_request",
            origin_key=f"churn_request:{request.pk}",
        )
    events.publish(events.ChurnRequestOpened(customer_id=customer.pk, churn_request_id=request.pk))
    return request


def save_attempt_add(*, churn_request: ChurnRequest, offer: str, actor: User) -> SaveAttempt:
    ensure_can_write(actor)
    if churn_request.outcome != ChurnOutcome.OPEN:
        raise ValidationError(_("This churn request is already closed."))
    if not offer.strip():
        raise ValidationError({"offer": _("Say what was offered.")})
    attempt = SaveAttempt.objects.create(churn_request=churn_request, offer=offer.strip(), by=actor)
    activity_log(
        customer=churn_request.customer,
        kind=ActivityKind.CHURN_REQUEST,
        title=_("Save attempt"),
        body=attempt.offer,
        author=actor,
    )
    return attempt


def _uti_start(*, request: ChurnRequest, actor: User | None) -> UtiStay:
    customer = request.customer
    policy = policy_for(customer.service_model)
    today = timezone.localdate()
    stay = UtiStay.objects.create(
        customer=customer, churn_request=request, started_on=today, ends_on=today + timedelta(days=policy.uti_days)
    )
    _stage_change(customer=customer, to=Stage.UTI, actor=actor, note=_("Saved from churn: recovery month."))
    owner = customer.owner or customer.implementation_manager or actor
    if owner is not None:
        weeks = max(1, policy.uti_days // 7 - 1)
        for week in range(1, weeks + 1):
            task_create(
                customer=customer,
                owner=owner,
                title=_("UTI: weekly check-in call with %(customer)s (%(n)s/%(total)s)")
                % {"customer": customer, "n": week, "total": weeks},
                due_date=today + timedelta(days=7 * week),
                origin="uti",
                origin_key=f"uti:{stay.pk}:checkin:{week}",
            )
        task_create(
            customer=customer,
            owner=owner,
            title=_("UTI: closing review with %(customer)s — decide the exit") % {"customer": customer},
            due_date=stay.ends_on,
            origin="uti",
            origin_key=f"uti:{stay.pk}:exit",
        )
    return stay


@transaction.atomic
def churn_request_resolve(
    *,
    churn_request: ChurnRequest,
    outcome: str,
    actor: User | None,
    effective_date: date | None = None,
    downsell: dict[Subscription, int] | None = None,
) -> UtiStay | None:
    """Close a churn request.

    * recovered: the customer goes to UTI for its recovery month;
    * downsell: as recovered, after the given subscriptions drop to their new amounts (a contraction);
    * churned: every running subscription ends on ``effective_date`` and the customer is churned.
    """
    ensure_can_write(actor)
    request = ChurnRequest.objects.select_for_update().get(pk=churn_request.pk)
    if request.outcome != ChurnOutcome.OPEN:
        raise ValidationError(_("This churn request is already closed."))
    customer = request.customer
    effective_date = effective_date or timezone.localdate()
    stay = None
    if outcome == ChurnOutcome.DOWNSELL:
        if not downsell:
            raise ValidationError(_("Say which subscription goes down, and to how much."))
        for subscription, new_amount in downsell.items():
            if subscription.customer_id != customer.pk:
                raise ValidationError(_("That subscription belongs to another customer."))
            if new_amount >= subscription.amount_cents:
                raise ValidationError({"amount": _("A downsell must lower the amount.")})
            subscription_change(
                subscription=subscription, actor=actor, effective_date=effective_date, amount_cents=new_amount
            )
    if outcome in (ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL):
        request.outcome = outcome
        request.resolved_at = timezone.now()
        request.save(update_fields=["outcome", "resolved_at"])
        customer.refresh_from_db()
        stay = _uti_start(request=request, actor=actor)
        activity_log(
            customer=customer,
            kind=ActivityKind.CHURN_REQUEST,
            title=_("Churn request reversed: %(outcome)s") % {"outcome": request.get_outcome_display()},
            author=actor,
            data={"churn_request": request.pk},
        )
        events.publish(
            events.ChurnRequestRecovered(customer_id=customer.pk, churn_request_id=request.pk, uti_stay_id=stay.pk)
        )
    elif outcome == ChurnOutcome.CHURNED:
        request.outcome = outcome
        request.resolved_at = timezone.now()
        request.save(update_fields=["outcome", "resolved_at"])
        _churn(customer=customer, actor=actor, effective_date=effective_date, request=request)
    else:
        raise ValidationError({"outcome": _("Choose recovered, recovered with downsell, or churned.")})
    Task.objects.filter(origin_key=f"churn_request:{request.pk}", status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, completed_at=timezone.now()
    )
    return stay


def _churn(*, customer: Customer, actor: User | None, effective_date: date, request: ChurnRequest | None) -> None:
    for subscription in customer.subscriptions.filter(status__in=RUNNING_STATUSES):
        subscription_cancel(
            subscription=subscription, actor=actor, end_date=max(effective_date, subscription.start_date), log=False
        )
    customer.refresh_from_db()
    # A churned customer has no review ahead and no open work.
    SuccessReview.objects.filter(customer=customer, status=ReviewStatus.SCHEDULED).update(status=ReviewStatus.CANCELLED)
    _stage_change(
        customer=customer,
        to=Stage.CHURNED,
        actor=actor,
        note=str(request.reason) if request else "",
    )
    events.publish(events.CustomerChurned(customer_id=customer.pk, churn_request_id=request.pk if request else None))


@transaction.atomic
def uti_exit(*, stay: UtiStay, decision: str, actor: User, notes: str = "", effective_date: date | None = None) -> None:
    """Leave UTI: back to ongoing, or churned after all (subscriptions end, churn recorded)."""
    ensure_can_write(actor)
    if stay.exit != UtiExit.OPEN:
        raise ValidationError(_("This customer already left UTI."))
    if decision not in (UtiExit.RECOVERED, UtiExit.CHURNED):
        raise ValidationError({"decision": _("Decide: back to ongoing, or churned.")})
    stay.exit = decision
    stay.exited_on = timezone.localdate()
    stay.exit_notes = notes
    stay.save(update_fields=["exit", "exited_on", "exit_notes"])
    customer = stay.customer
    if decision == UtiExit.RECOVERED:
        handed_off = Handoff.objects.filter(customer=customer).exists()
        _stage_change(customer=customer, to=Stage.ONGOING if handed_off else Stage.ONBOARDING, actor=actor, note=notes)
    else:
        _churn(
            customer=customer,
            actor=actor,
            effective_date=effective_date or timezone.localdate(),
            request=stay.churn_request,
        )
    Task.objects.filter(origin_key__startswith=f"uti:{stay.pk}:", status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED
    )


# --- Expansion --------------------------------------------------------------------------------------------


def opportunity_create(*, customer: Customer, actor: User, owner: User | None = None, **fields) -> ExpansionOpportunity:
    ensure_can_write(actor)
    opportunity = ExpansionOpportunity(
        customer=customer, owner=owner or customer.farmer or customer.owner or actor, **fields
    )
    opportunity.full_clean()
    opportunity.save()
    activity_log(
        customer=customer,
        kind=ActivityKind.EXPANSION,
        title=_("Expansion opportunity: %(title)s") % {"title": opportunity.title},
        author=actor,
        data={"opportunity": opportunity.pk},
    )
    return opportunity


@transaction.atomic
def opportunity_win(
    *,
    opportunity: ExpansionOpportunity,
    actor: User,
    effective_date: date,
    subscription: Subscription | None = None,
    product: str = "",
) -> Subscription:
    """A won upsell raises an existing subscription; a won cross-sell adds one. Either records expansion."""
    ensure_can_write(actor)
    if opportunity.stage in (OpportunityStage.WON, OpportunityStage.LOST):
        raise ValidationError(_("This opportunity is already closed."))
    if opportunity.kind == OpportunityKind.UPSELL:
        if subscription is None or subscription.customer_id != opportunity.customer_id:
            raise ValidationError({"subscription": _("Choose the subscription that grows.")})
        months = BILLING_MONTHS.get(subscription.billing_period, 1)
        result = subscription_change(
            subscription=subscription,
            actor=actor,
            effective_date=effective_date,
            amount_cents=subscription.amount_cents + opportunity.mrr_cents * months,
        )
    else:
        result = subscription_create(
            customer=opportunity.customer,
            product=product or opportunity.title,
            amount_cents=opportunity.mrr_cents,
            start_date=effective_date,
            actor=actor,
        )
    opportunity.stage = OpportunityStage.WON
    opportunity.closed_at = timezone.now()
    opportunity.save(update_fields=["stage", "closed_at"])
    return result


def opportunity_move(*, opportunity: ExpansionOpportunity, stage: str, actor: User) -> ExpansionOpportunity:
    ensure_can_write(actor)
    if stage == OpportunityStage.WON:
        raise ValidationError(_("Win an opportunity with its subscription change."))
    opportunity.stage = stage
    opportunity.closed_at = timezone.now() if stage == OpportunityStage.LOST else None
    opportunity.save(update_fields=["stage", "closed_at"])
    return opportunity
