"""Customers: creation (onboarding starts), descriptive changes, the stage machine and ownership."""

from collections.abc import Iterable
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import can_create_customers, can_reassign, ensure_can_write
from accounts.models import Role, User
from accounts.selectors import owner_candidates
from core import clock
from core.events import publish
from portfolio import events
from portfolio.models import (
    Activity,
    ActivityKind,
    Customer,
    Handoff,
    Milestone,
    MilestoneKind,
    OwnershipPeriod,
    ReviewStatus,
    ServiceModel,
    ServiceModelPolicy,
    Stage,
    SuccessReview,
    Task,
    TaskStatus,
)
from portfolio.selectors import customers_changeable_by
from portfolio.services.policies import policy_for
from portfolio.services.timeline import activity_log
from portfolio.settings_milestone_selectors import milestone_templates_active
from portfolio.settings_milestone_services import milestone_templates_ensure
from portfolio.validators import cnpj_digits


def _onboarding_milestones(customer: Customer, policy: ServiceModelPolicy) -> None:
    """One milestone per active template of the customer's service model, in order, named in the language of the
    moment: first value and first success dated by the policy, the others due by the first-success date. Later
    changes to the templates leave these milestones as they are."""
    templates = milestone_templates_active(customer.service_model)
    if not templates:  # first value and first success are never retired: none at all means none was ever saved
        milestone_templates_ensure(customer.service_model)
        templates = milestone_templates_active(customer.service_model)
    due_on = {
        MilestoneKind.FIRST_VALUE: customer.start_date + timedelta(days=policy.first_value_days),
        MilestoneKind.FIRST_SUCCESS: customer.start_date + timedelta(days=policy.first_success_days),
    }
    Milestone.objects.bulk_create(
        [
            Milestone(
                customer=customer,
                template=template,
                kind=template.kind,
                description=str(template),
                target_date=due_on.get(template.kind, due_on[MilestoneKind.FIRST_SUCCESS]),
            )
            for template in templates
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
    licences: int | None = None,
) -> Customer:
    """A new customer starts in onboarding under its ISM, with one milestone per active milestone template of its
    service model (first value and first success dated by its policy). Raises PermissionDenied for someone who may
    not create customers (the page, the API and the import all come through here)."""
    ensure_can_write(actor)
    if actor is not None and not can_create_customers(actor):
        raise PermissionDenied(_("Only admins, leaders and implementation managers create customers."))
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
        start_date=start_date or clock.today(),
        renewal_date=renewal_date,
        external_id=external_id or None,
        licences=licences,
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
    publish(
        events.CustomerCreated(
            customer_id=customer.pk,
            service_model=customer.service_model,
            owner_id=customer.owner_id,
            implementation_manager_id=customer.implementation_manager_id,
        )
    )
    return customer


def customer_update(*, customer: Customer, actor: User, **fields) -> Customer:
    """Change descriptive fields. Stage and owner have their own services."""
    ensure_can_write(actor)
    allowed = {
        "name", "cnpj", "segment", "plan_tier", "service_model", "renewal_date", "farmer", "external_id", "licences"
    }  # fmt: skip
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"customer_update cannot change {sorted(unknown)}")
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
    customer.stage_changed_at = clock.now()
    Customer.objects.filter(pk=customer.pk).update(stage=to, stage_changed_at=customer.stage_changed_at)
    activity_log(
        customer=customer,
        kind=ActivityKind.STAGE_CHANGE,
        title=_("Stage: %(from)s → %(to)s") % {"from": Stage(previous).label, "to": Stage(to).label},
        body=note,
        author=actor,
        data={"from": previous, "to": to},
    )
    publish(events.StageChanged(customer_id=customer.pk, from_stage=previous, to_stage=to))


def customer_move_to_ongoing(*, customer: Customer, actor: User) -> None:
    """Only a completed handoff ends onboarding; this refuses with the reason otherwise."""
    ensure_can_write(actor)
    _stage_change(customer=customer, to=Stage.ONGOING, actor=actor)


def _owner_change(
    customers: list[Customer], to_owner: User, *, actor: User | None, by_handoff: bool = False, note: str = ""
) -> dict[int, User | None]:
    """Give customers a new owner, all at once: ownership periods (so reports know who owned them when),
    the owner, the previous owner's open tasks about them and their scheduled reviews, and an entry on each
    customer's timeline (by reassignment or by the handoff alike: the timeline's "Owner change" shows every
    hand-over); each change is announced. Returns each customer's previous owner by customer id; the customer
    objects get the new one."""
    now = clock.now()
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
    title = _("Owner: %(from)s → %(to)s (handoff)") if by_handoff else _("Owner: %(from)s → %(to)s")
    Activity.objects.bulk_create(
        [
            Activity(
                customer=c,
                kind=ActivityKind.OWNER_CHANGE,
                title=(title % {"from": previous[c.pk] or "—", "to": to_owner})[:200],
                body=note,
                author=actor,
                happened_at=now,
                data={
                    "from": previous[c.pk].pk if previous[c.pk] else None,
                    "to": to_owner.pk,
                    "by_handoff": by_handoff,
                },
            )
            for c in customers
        ],
        batch_size=1000,
    )
    for customer in customers:
        customer.owner = to_owner
        publish(
            events.OwnerChanged(
                customer_id=customer.pk,
                from_owner_id=previous[customer.pk].pk if previous[customer.pk] else None,
                to_owner_id=to_owner.pk,
                actor_id=actor.pk if actor else None,
                by_handoff=by_handoff,
            )
        )
    return previous


@transaction.atomic
def customers_reassign(*, customers: Iterable[Customer], to_owner: User, actor: User, note: str = "") -> int:
    """Move customers to another CSM; ownership periods and the timeline keep who owned them when.
    Open tasks of the previous owner about these customers move along."""
    if not can_reassign(actor):
        raise PermissionDenied(_("Only leaders and admins reassign customers."))
    if not owner_candidates(actor).filter(pk=to_owner.pk).exists():
        raise ValidationError({"to_owner": _("You can only assign customers to people of your team.")})
    customers = list(customers)
    allowed = set(customers_changeable_by(actor).filter(pk__in=[c.pk for c in customers]).values_list("pk", flat=True))
    if len(allowed) != len({c.pk for c in customers}):
        raise PermissionDenied(_("You can only reassign customers of your own team."))
    moving = [c for c in customers if c.owner_id != to_owner.pk]
    _owner_change(moving, to_owner, actor=actor, note=note)
    return len(moving)
