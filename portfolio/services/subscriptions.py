"""Subscriptions and the MRR ledger they drive, and delinquency."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write
from accounts.models import User
from core import clock
from core.events import publish
from portfolio import events, ledger
from portfolio.models import (
    ActivityKind,
    Customer,
    Stage,
    Subscription,
    SubscriptionStatus,
)
from portfolio.money import reais
from portfolio.services.customers import _stage_change
from portfolio.services.timeline import activity_log


def _after_subscription_change(customer: Customer, actor: User | None) -> tuple[int, int]:
    """Bring the customer's ledger and MRR up to date; a churned customer paying again is reactivated.
    Returns the customer's MRR before and after, in cents."""
    # The caller's copy may predate a churn: read the stored stage and MRR.
    customer.refresh_from_db(fields=["stage", "mrr_cents"])
    was_churned = customer.stage == Stage.CHURNED
    before = customer.mrr_cents
    ledger.sync_customer(customer)
    if was_churned and customer.mrr_cents > 0:
        _stage_change(customer=customer, to=Stage.ONGOING, actor=actor, note=_("Reactivated: paying again."))
    return before, customer.mrr_cents


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
    seats: int | None = None,
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
        seats=seats,
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
    before, after = _after_subscription_change(customer, actor)
    publish(
        events.SubscriptionCreated(
            customer_id=customer.pk, subscription_id=subscription.pk, mrr_before_cents=before, mrr_after_cents=after
        )
    )
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
    was_delinquent = subscription.status == SubscriptionStatus.DELINQUENT
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
            # The seats bought stay with the new terms (licences are read from the running rows).
            seats=subscription.seats,
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
    mrr_before, mrr_after = _after_subscription_change(customer, actor)
    publish(
        events.SubscriptionChanged(
            customer_id=customer.pk,
            subscription_id=new.pk,
            replaced_id=subscription.pk,
            effective_date=effective_date,
            mrr_before_cents=mrr_before,
            mrr_after_cents=mrr_after,
        )
    )
    if was_delinquent and new.status != SubscriptionStatus.DELINQUENT:
        publish(events.DelinquencyEnded(customer_id=customer.pk, subscription_id=new.pk, paid=new.is_current))
    return new


@transaction.atomic
def subscription_cancel(*, subscription: Subscription, actor: User | None, end_date: date, log: bool = True) -> None:
    ensure_can_write(actor)
    if not subscription.is_current:
        raise ValidationError(_("This subscription has already ended."))
    if end_date < subscription.start_date:
        raise ValidationError({"end_date": _("A subscription cannot end before it started.")})
    was_delinquent = subscription.status == SubscriptionStatus.DELINQUENT
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
    before, after = _after_subscription_change(subscription.customer, actor)
    customer_id = subscription.customer_id
    publish(
        events.SubscriptionCancelled(
            customer_id=customer_id,
            subscription_id=subscription.pk,
            end_date=end_date,
            mrr_before_cents=before,
            mrr_after_cents=after,
        )
    )
    if was_delinquent:
        publish(events.DelinquencyEnded(customer_id=customer_id, subscription_id=subscription.pk, paid=False))


@transaction.atomic
def subscription_mark_delinquent(*, subscription: Subscription, since: date, actor: User | None) -> bool:
    """A past-due subscription still counts in MRR. Announced, so its owner gets a follow-up task (the
    "Overdue payment" playbook). Returns whether it was newly marked (marking it twice changes nothing)."""
    ensure_can_write(actor)
    if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.DELINQUENT):
        raise ValidationError(_("Only an active subscription can become delinquent."))
    if subscription.status == SubscriptionStatus.DELINQUENT:
        return False
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
    publish(events.DelinquencyStarted(customer_id=customer.pk, subscription_id=subscription.pk, since=since))
    return True


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
        publish(
            events.DelinquencyEnded(customer_id=subscription.customer_id, subscription_id=subscription.pk, paid=True)
        )


def ledger_sync_effective(*, days: int = 2, today: date | None = None) -> int:
    """Bring the ledger up to date for subscriptions whose start or end fell in the last ``days`` days."""
    today = today or clock.today()
    since = today - timedelta(days=days)
    window = Q(start_date__gt=since, start_date__lte=today) | Q(end_date__gt=since, end_date__lte=today)
    customer_ids = Subscription.objects.filter(window).values_list("customer_id", flat=True).distinct()
    synced = 0
    for customer in Customer.objects.filter(pk__in=customer_ids).iterator(chunk_size=500):
        with transaction.atomic():
            ledger.sync_customer(customer, today=today)
        synced += 1
    return synced
