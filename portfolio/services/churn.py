"""Churn requests with a concrete reason, the UTI recovery month for a saved customer, and churning."""

import re
import unicodedata
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write
from accounts.models import User
from core import clock
from core.events import publish
from portfolio import events
from portfolio.models import (
    RUNNING_STATUSES,
    ActivityKind,
    ChurnKind,
    ChurnOutcome,
    ChurnReason,
    ChurnRequest,
    Customer,
    Handoff,
    ReviewStatus,
    SaveAttempt,
    Stage,
    Subscription,
    SubscriptionStatus,
    SuccessReview,
    Task,
    TaskStatus,
    UtiExit,
    UtiStay,
)
from portfolio.services.customers import _stage_change
from portfolio.services.policies import policy_for
from portfolio.services.subscriptions import subscription_cancel, subscription_change
from portfolio.services.timeline import activity_log
from portfolio.taxonomy import INVOLUNTARY_REASON

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
        requested_on=requested_on or clock.today(),
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
    publish(
        events.ChurnRequestOpened(
            customer_id=customer.pk,
            churn_request_id=request.pk,
            kind=request.kind,
            mrr_at_risk_cents=request.mrr_at_risk_cents,
        )
    )
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
    today = clock.today()
    stay = UtiStay.objects.create(
        customer=customer, churn_request=request, started_on=today, ends_on=today + timedelta(days=policy.uti_days)
    )
    _stage_change(customer=customer, to=Stage.UTI, actor=actor, note=_("Saved from churn: recovery month."))
    publish(
        events.UtiEntered(
            customer_id=customer.pk,
            uti_stay_id=stay.pk,
            churn_request_id=request.pk,
            started_on=stay.started_on,
            ends_on=stay.ends_on,
            actor_id=actor.pk if actor else None,
        )
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
    effective_date = effective_date or clock.today()
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
        request.resolved_at = clock.now()
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
        publish(
            events.ChurnRequestRecovered(
                customer_id=customer.pk, churn_request_id=request.pk, uti_stay_id=stay.pk, outcome=outcome
            )
        )
    elif outcome == ChurnOutcome.CHURNED:
        request.outcome = outcome
        request.resolved_at = clock.now()
        request.save(update_fields=["outcome", "resolved_at"])
        _churn(customer=customer, actor=actor, effective_date=effective_date, request=request)
    else:
        raise ValidationError({"outcome": _("Choose recovered, recovered with downsell, or churned.")})
    Task.objects.filter(origin_key=f"churn_request:{request.pk}", status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, completed_at=clock.now()
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
    publish(
        events.CustomerChurned(
            customer_id=customer.pk, churn_request_id=request.pk if request else None, effective_date=effective_date
        )
    )


@transaction.atomic
def uti_exit(*, stay: UtiStay, decision: str, actor: User, notes: str = "", effective_date: date | None = None) -> None:
    """Leave UTI: back to ongoing, or churned after all (subscriptions end, churn recorded)."""
    ensure_can_write(actor)
    if stay.exit != UtiExit.OPEN:
        raise ValidationError(_("This customer already left UTI."))
    if decision not in (UtiExit.RECOVERED, UtiExit.CHURNED):
        raise ValidationError({"decision": _("Decide: back to ongoing, or churned.")})
    stay.exit = decision
    stay.exited_on = clock.today()
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
            effective_date=effective_date or clock.today(),
            request=stay.churn_request,
        )
    Task.objects.filter(origin_key__startswith=f"uti:{stay.pk}:", status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED
    )
    publish(events.UtiLeft(customer_id=customer.pk, uti_stay_id=stay.pk, decision=decision))


def delinquency_escalate(*, today: date | None = None) -> list[ChurnRequest]:
    """Open an involuntary churn request for each customer still delinquent after the configured days."""
    today = today or clock.today()
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
