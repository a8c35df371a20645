"""Churn requests with a concrete reason, the UTI recovery month for a saved customer, and churning."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that only restate a vague reason: (not) seeing value, price, budget, "other", "internal", "unknown", wanting
# to leave or not using it, and generic names for the product. Folded: lower case, no accents.
VAGUE_WORDS = _vocabulary(
    """
    valor valores vale valeu valia ve viu ver vendo enxerga enxergou enxergam percebe percebeu percebem
    beneficio beneficios retorno resultado resultados util utilidade
    produto produtos sistema sistemas ferramenta ferramentas plataforma solucao servico servicos software app
    aplicativo
    motivo motivos razao razoes causa causas interno internos interna internas pessoal pessoais
    desconhecido desconhecida desconhecidos desconhece sei sabe sabemos especifico especifica especificado
    informado informada informou informar informa informaram aparente aparentemente claro clara explicacao
    outro outros outra outras diversos diversas varios varias
    preco precos caro cara caros caras barato barata alto alta elevado custo custos pagar paga pagando
    pagamento pagamentos dinheiro orcamento verba financeiro financeiros financeira financeiras
    corte cortes cortar reducao reduzir economia economizar crise economica economico momento prioridade
    prioridades restricao restricoes
    quer querem queria queriam quis deseja desejam desejo vontade interesse decidiu decidiram decisao optou
    optaram resolveu resolveram escolheu desistiu desistir desistencia
    cancelar cancela cancelou cancelamento sair saida encerrar encerramento churn
    usa usar usou usam uso utiliza utilizar utilizou adesao
    gosta gostou gostar gostaram satisfeito satisfeita insatisfeito insatisfeita insatisfacao satisfacao
    bom boa ruim problema problemas questao questoes dificuldade dificuldades necessidade necessidades
    atende atendeu atender esperado expectativa expectativas
    value valuable worth see saw sees seeing seen benefit benefits roi results useful
    product products tool tools platform solution service software system
    reason reasons cause internal personal unknown unspecified specified specific given provided stated know knows
    other others another various
    price prices pricing expensive pricey cheap cost costs costly pay paying payment money budget budgets
    financial finances cut cuts cutting reduction economy economic crisis priority priorities constraint
    constraints
    want wants wanted wanting wish decided decision chose choose cancel cancelling canceling cancellation
    leave leaving churn churning quit
    use uses used using usage adoption like liked likes happy unhappy satisfied dissatisfied satisfaction
    good bad problem problems issue issues need needs needed fit expectations
    """
)
# Filler that carries no cause: articles, pronouns, prepositions, auxiliaries, "the customer said that", hedges.
FILLER_WORDS = _vocabulary(
    """
    o a os as um uma uns umas de do da dos das no na nos nas em num numa por pelo pela pelos pelas para pra pro
    ao aos com sem e ou mas nem que se nao sim ja mais menos muito muita muitos muitas pouco pouca poucos poucas
    bem mal tao tanto tambem so apenas somente ainda sempre nunca nada nenhum nenhuma algum alguma alguns algumas
    tudo todo toda todos todas qualquer ele ela eles elas eu voce voces seu sua seus suas dele dela deles
    delas isso isto aquilo esse essa esses essas este esta estes estas aquele aquela lhe lhes me te meu minha
    cliente clientes empresa conta contato disse diz dizem disseram dito falou fala falaram relatou relata
    comentou afirmou alegou alega alegando explicou mencionou acha achou acham acredita pensa sente sentiu
    parece pareceu foi ser sao era eram seria estar estao estava estavam ter tem tinha tiveram teve ha
    houve haver fez faz fazer feito vai vao ir pode podem poderia deve deveria precisa precisam precisou
    necessita sido sendo tendo caso porque pois como quando onde qual quais quem ate apos desde entre sobre
    demais assim entao agora hoje aqui la mesmo mesma real realmente exatamente geral forma modo coisa coisas
    vez tipo etc bastante pq vc
    the an of to in on at for with without by from and or but nor that this these those it its he she they
    them their his her we our you your i my me is are was were be been being has have had do does did doesnt
    dont didnt isnt arent wasnt werent wont cant cannot couldnt not no yes any some all just only also very
    too much many more less so as than then there here what which who when where why how because about into
    over after before said says say told tell tells mentioned reported informed explained think thinks
    thought feel feels felt seems seemed seem customer customers client clients company account would could
    should will can may might must get got gets make made really actually apparently anymore right now
    enough thing things way sort kind
    """
)
MIN_CONCRETE_WORDS = 3


def _fold(text: str) -> str:
    # Phones and Macs type typographic apostrophes; fold them so a curly-quoted "doesn't" still matches.
    text = text.translate({0x2019: "'", 0x2018: "'", 0x02BC: "'", 0x00B4: "'", 0x60: "'"})
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@dataclass(frozen=True)
class _Word:
    typed: str  # as written, for capitals
    folded: str  # lower case, no accents: what the word lists hold
    starts_sentence: bool


def _words(text: str) -> list[_Word]:
    words = []
    starts_sentence = True
    for piece in re.findall(r"\w+|[.!?;:]", _fold(text).replace("'", "")):
        if piece in ".!?;:":
            starts_sentence = True
            continue
        words.append(_Word(piece, piece.lower(), starts_sentence))
        starts_sentence = False
    return words


def _concrete_words(detail: str) -> tuple[list[str], bool]:
    """The words of a churn detail that say something beyond a vague reason, and whether one of them is a
    concrete signal: a number (``40%``, ``R$ 300``, ``SAP B1``) or a name (``Campinas``, ``CFO``, ``Salesforce``:
    a capitalised word inside a sentence, or an acronym).

    Capitals are not read as names when the whole detail is in Title Case or upper case."""
    words = _words(detail)
    content = [
        w
        for w in words
        if w.folded not in VAGUE_WORDS and w.folded not in FILLER_WORDS and (len(w.folded) > 1 or w.folded.isdigit())
    ]
    long_words = [w for w in words if len(w.folded) > 3 and w.folded.isalpha()]
    capitals_are_names = not all(w.typed[0].isupper() for w in long_words)

    def is_signal(w: _Word) -> bool:
        if any(ch.isdigit() for ch in w.typed):
            return True
        return capitals_are_names and (
            (len(w.typed) > 1 and w.typed.isupper()) or (w.typed[0].isupper() and not w.starts_sentence)
        )

    return [w.folded for w in content], any(is_signal(w) for w in content)


def churn_detail_is_vague(detail: str) -> bool:
    """A detail is vague when it only restates a vague reason, however long it is.

    Without the words that restate a vague reason ("não viu valor", "preço", "motivos internos", "unknown",
    "other") and filler ("o cliente disse que", "ele", "apenas", "the customer said", articles, auxiliaries),
    a concrete detail still has at least three words, or two when one of them is a number or a name:
    "o novo CFO cortou as ferramentas sem integração com o SAP B1" keeps "novo CFO cortou integracao SAP B1";
    "O cliente disse que não viu valor no produto" keeps nothing."""
    content, has_signal = _concrete_words(detail)
    return len(content) < MIN_CONCRETE_WORDS and not (has_signal and len(content) >= 2)


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
    if not (reason.active and reason.category.active):
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


def _uti_start(*, request: ChurnRequest, actor: User | None, started_on: date) -> UtiStay:
    customer = request.customer
    policy = policy_for(customer.service_model)
    stay = UtiStay.objects.create(
        customer=customer,
        churn_request=request,
        started_on=started_on,
        ends_on=started_on + timedelta(days=policy.uti_days),
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

    * recovered: the customer goes to UTI for its recovery month, from ``effective_date``;
    * downsell: as recovered, after the given subscriptions drop to their new amounts (a contraction) on
      ``effective_date``;
    * churned: every running subscription ends on ``effective_date`` and the customer is churned.

    ``effective_date`` defaults to today. A save is recorded on the day it happened, so the recovery month's
    plan (its weekly check-ins and closing review) is dated from then: a save recorded late starts with its
    past check-ins overdue. A save cannot be dated in the future (the customer is not saved yet: record it on
    the day) nor before the customer asked to cancel; a churn can (the subscriptions end on that day).
    """
    ensure_can_write(actor)
    request = ChurnRequest.objects.select_for_update().get(pk=churn_request.pk)
    if request.outcome != ChurnOutcome.OPEN:
        raise ValidationError(_("This churn request is already closed."))
    customer = request.customer
    effective_date = effective_date or clock.today()
    if outcome in (ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL):
        if effective_date > clock.today():
            raise ValidationError(
                {"effective_date": _("A save is recorded on the day it happened: choose today or an earlier day.")}
            )
        if effective_date < request.requested_on:
            raise ValidationError(
                {
                    "effective_date": _("The customer asked to cancel on %(day)s: a save cannot come before that.")
                    % {"day": formats.date_format(request.requested_on, "SHORT_DATE_FORMAT")}
                }
            )
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
        stay = _uti_start(request=request, actor=actor, started_on=effective_date)
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
                    detail=ngettext(
                        "%(sub)s unpaid since %(since)s (%(days)s day); opened automatically.",
                        "%(sub)s unpaid since %(since)s (%(days)s days); opened automatically.",
                        days,
                    )
                    % {"sub": subscription, "since": subscription.delinquent_since.strftime("%d/%m/%Y"), "days": days},
                    requested_by=_("Billing"),
                    actor=None,
                )
            )
    return opened
