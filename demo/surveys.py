"""Demo survey history on the demo portfolio.

Adds, once, a year of surveys to the demo customers (``external_id`` ``demo-…``):

* an NPS relationship campaign, every 90 days per contact, staggered so that answers arrive every month; the
  score of each customer follows its health (churned, in UTI, with a churn request or delinquent customers
  answer worse, and got worse over the year);
* a CSAT campaign sent after each handoff, a CES campaign after support tickets, a small CHI campaign;
* an eNPS campaign answered by the demo team (at least five answers per round, so results show);
* the ten CHI criteria;
* a follow-up task for every detractor (``surveys.answers.detractor_follow_up``: the history is written in
  bulk, without the events the "Detractor recovery" playbook listens to), most of them closed with the
  loop, and the recent ones still waiting.

Deliveries and answers are written in bulk (status sent, real token salts), so this takes about a second for
the default 300 customers. Running it again does nothing.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from accounts.models import User
from core import clock
from demo.people import DEMO_DOMAIN, LEADER_KEY, TEAM_NAME, demo_user
from demo.plans import EXTERNAL_PREFIX
from portfolio import services as portfolio_services
from portfolio.models import Activity, ChurnRequest, Contact, ContactRole, Customer, Stage, Subscription, Task
from surveys import answers, scoring, services, tallies, tokens
from surveys.counted_for import counted_for_fill
from surveys.models import (
    Campaign,
    CampaignMode,
    CampaignStatus,
    ChiAssessment,
    ChiCriterion,
    Delivery,
    DeliveryStatus,
    Response,
    SkipReason,
    SurveyKind,
    Trigger,
)

NPS_NAME = "NPS de relacionamento — trimestral"

CHI_CRITERIA = [
    ("Usa o produto toda semana", "Uses the product every week", "csm"),
    ("Tem um champion ativo", "Has an active champion", "csm"),
    ("Atingiu o primeiro sucesso", "Reached first success", "csm"),
    ("Participou da última revisão de sucesso", "Attended the last success review", "csm"),
    ("Pagamentos em dia", "Payments up to date", "csm"),
    ("Recomendaria a Leme a um colega", "Would recommend Leme to a colleague", "customer"),
    ("A Leme ajuda a bater as metas do time", "Leme helps the team hit its goals", "customer"),
    ("O suporte resolve rápido", "Support solves things quickly", "customer"),
    ("Os usuários foram treinados", "The users were trained", "customer"),
    ("Pretende renovar o contrato", "Plans to renew the contract", "customer"),
]

COMMENTS = {
    "promoter": [
        "O time de CS é muito próximo, sempre respondem rápido.",
        "A ferramenta virou parte do nosso dia a dia, não vivemos mais sem.",
        "Nossa CSM entende o nosso negócio e traz ideias em toda reunião.",
        "Os relatórios nos ajudaram a dobrar a conversão do funil.",
        "Implantação rápida e sem dor de cabeça.",
        "Recomendo para qualquer empresa que queira organizar o comercial.",
        "Suporte resolve no mesmo dia. Nota 10.",
        "As revisões de sucesso trimestrais fazem muita diferença para a diretoria.",
        "Bateram todas as metas combinadas na conclusão da implantação.",
    ],
    "passive": [
        "Bom produto, mas a integração com o ERP ainda dá trabalho.",
        "Funciona bem; sentimos falta de um aplicativo mobile melhor.",
        "Gostamos, mas o preço subiu bastante na renovação.",
        "Atende o básico; alguns relatórios demoram para carregar.",
        "O suporte é bom, mas às vezes demora para responder por e-mail.",
        "Seria nota 9 se a importação de planilhas fosse mais simples.",
    ],
    "detractor": [
        "Tivemos instabilidade três vezes neste mês e ninguém avisou.",
        "Trocamos de CSM duas vezes em seis meses e perdemos o histórico.",
        "O suporte demora dias para responder chamados críticos.",
        "Pagamos por funcionalidades que nunca conseguimos usar.",
        "A integração com o ERP quebrou e ficamos uma semana sem faturar.",
        "Preço alto para o valor que estamos tirando hoje.",
        "Falta treinamento para os novos usuários do time.",
    ],
}
CSAT_COMMENTS = {
    "promoter": [
        "A conclusão da implantação foi clara, sabemos quem procurar.",
        "Implantação muito bem conduzida, metas e próximos passos bem definidos.",
        "Reunião objetiva e com um plano para os próximos meses.",
    ],
    "passive": ["Foi ok, mas a reunião poderia ter sido mais objetiva.", "Faltou falar das integrações."],
    "detractor": ["Ainda não sabemos quem é o nosso CSM.", "Saímos da implantação com pendências em aberto."],
}
CES_COMMENTS = {
    "promoter": ["Abri o chamado pelo chat e resolveram na hora.", "Processo simples, a base de conhecimento ajudou."],
    "passive": ["Precisei explicar o problema duas vezes."],
    "detractor": [
        "Tive que abrir três chamados para o mesmo problema.",
        "Fui transferido entre áreas e ninguém resolvia.",
    ],
}
ENPS_COMMENTS = {
    "promoter": [
        "Gosto muito do time e da liderança, é um ambiente de confiança.",
        "Tenho autonomia e vejo o impacto do meu trabalho nos clientes.",
        "As rituais de time ajudam muito a trocar aprendizados.",
    ],
    "passive": [
        "Bom lugar para trabalhar, mas a carteira está grande demais para atender bem.",
        "Falta clareza sobre o plano de carreira.",
    ],
    "detractor": [
        "Metas mudando no meio do trimestre desanimam.",
        "Ferramentas internas lentas atrapalham o atendimento.",
    ],
}

# Score weights by health, for a 0–10 answer (index = score).
NPS_WEIGHTS = {
    "good": [0, 0, 0, 1, 1, 1, 3, 6, 15, 30, 43],
    "fair": [1, 1, 1, 2, 3, 5, 8, 16, 25, 22, 16],
    "poor": [8, 6, 9, 10, 11, 12, 12, 12, 9, 6, 5],
}
CSAT_WEIGHTS = {"good": [1, 2, 6, 36, 55], "fair": [3, 8, 20, 42, 27], "poor": [12, 20, 30, 25, 13]}
CES_WEIGHTS = {
    "good": [1, 2, 4, 8, 20, 35, 30],
    "fair": [3, 6, 10, 16, 25, 25, 15],
    "poor": [12, 16, 18, 18, 16, 12, 8],
}


@dataclass
class _Batch:
    """Deliveries and answers waiting for one bulk insert."""

    deliveries: list[Delivery] = field(default_factory=list)
    answers: list[tuple[int, dict]] = field(default_factory=list)  # (index in deliveries, Response fields)

    def add(self, delivery: Delivery, answer: dict | None = None) -> None:
        salt, token_hash = tokens.salt_and_hash()
        delivery.token_salt, delivery.token_hash = salt, token_hash
        self.deliveries.append(delivery)
        if answer is not None:
            self.answers.append((len(self.deliveries) - 1, answer))

    def write(self) -> list[Response]:
        """Insert the deliveries and the answers, and each customer answer's timeline entry (the one a real
        answer writes through ``surveys.answers``; eNPS answers have none)."""
        Delivery.objects.bulk_create(self.deliveries, batch_size=1000)
        responses = [Response(delivery=self.deliveries[i], **fields) for i, fields in self.answers]
        responses = Response.objects.bulk_create(responses, batch_size=1000)
        Activity.objects.bulk_create(
            [
                Activity(customer_id=r.customer_id, **answers.timeline_entry(response=r, delivery=r.delivery))
                for r in responses
                if r.customer_id is not None
            ],
            batch_size=1000,
        )
        return responses


def _moment(day: date, rng: random.Random) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(rng.randint(8, 19), rng.randint(0, 59))))


def _weighted(rng: random.Random, weights: list[int], low: int = 0) -> int:
    return low + rng.choices(range(len(weights)), weights=weights)[0]


def _answer(campaign: Campaign, customer: Customer, kind: str, score: int, comment: str, answered) -> dict:
    """The fields of a demo Response, answered once and never changed."""
    return {
        "campaign": campaign,
        "customer": customer,
        "kind": kind,
        "score": score,
        "comment": comment,
        "answered_at": answered,
        "updated_at": answered,
    }


def _band(kind: str, score: int, top: int) -> str:
    if scoring.is_detractor(kind, score):
        return "detractor"
    if kind in (SurveyKind.NPS, SurveyKind.ENPS):
        return "promoter" if score >= 9 else "passive"
    if kind == SurveyKind.CES:
        return "promoter" if score >= 5 else "passive"
    return "promoter" if score >= top - 1 else "passive"


def _comment(rng: random.Random, texts: dict[str, list[str]], band: str, chance: float = 0.6) -> str:
    return rng.choice(texts[band]) if rng.random() < chance else ""


def _health(customer: Customer) -> str:
    if customer.stage in (Stage.CHURNED, Stage.UTI) or customer.has_churn_request:
        return "poor"
    if customer.is_delinquent:
        return "fair"
    return "fair" if _index(customer) % 4 == 0 else "good"


def _index(customer: Customer) -> int:
    """The demo customer's number (``demo-00042`` → 42): the same on every database."""
    digits = customer.external_id.removeprefix(EXTERNAL_PREFIX)
    return int(digits) if digits.isdigit() else customer.pk


def _respondent(customer: Customer, roles: tuple[str, ...]) -> Contact | None:
    contacts = list(customer.contacts.all())
    for role in roles:
        for contact in contacts:
            if contact.role == role:
                return contact
    return contacts[0] if contacts else None


def _delivery(
    campaign: Campaign, contact: Contact, sent: datetime, round_: int, expires_days: int, *, surveyed_lately=False
) -> Delivery:
    """A delivery as the sender would have left it: sent, or skipped for the contact's reason."""
    reason = ""
    if surveyed_lately:
        reason = SkipReason.FATIGUE
    elif not contact.email:
        reason = SkipReason.NO_EMAIL
    elif contact.opted_out_at and contact.opted_out_at <= sent:
        reason = SkipReason.OPTED_OUT
    elif contact.bounced_at and contact.bounced_at <= sent:
        reason = SkipReason.BOUNCED
    return Delivery(
        campaign=campaign,
        round=round_,
        contact=contact,
        customer_id=contact.customer_id,
        email=contact.email,
        language=contact.language,
        status=DeliveryStatus.SKIPPED if reason else DeliveryStatus.SENT,
        skip_reason=reason,
        attempts=0 if reason else 1,
        created_at=sent,
        sent_at=None if reason else sent,
        expires_at=None if reason else sent + timedelta(days=expires_days),
    )


def _campaign(*, name: str, kind: str, created: datetime, status: str, **options) -> Campaign:
    campaign = services.campaign_create(name=name, kind=kind, actor=demo_user(LEADER_KEY), **options)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=status,
        created_at=created,
        last_run_at=created,
        closed_at=timezone.now() - timedelta(days=20) if status == CampaignStatus.CLOSED else None,
    )
    campaign.refresh_from_db()
    return campaign


def _customers() -> list[Customer]:
    return list(
        Customer.objects.filter(external_id__startswith=EXTERNAL_PREFIX)
        .exclude(owner__isnull=True)
        .annotate(
            has_churn_request=Exists(ChurnRequest.objects.filter(customer=OuterRef("pk"))),
            is_delinquent=Exists(Subscription.objects.filter(customer=OuterRef("pk"), status="delinquent")),
        )
        .select_related("owner", "handoff")
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.order_by("pk")))
        .order_by("pk")
    )


def _nps(customers: list[Customer], rng: random.Random, today: date) -> tuple[Campaign, _Batch]:
    start = today - timedelta(days=365)
    campaign = _campaign(
        name=NPS_NAME,
        kind=SurveyKind.NPS,
        created=_moment(start - timedelta(days=3), rng),
        status=CampaignStatus.ACTIVE,
        mode=CampaignMode.RECURRING,
        every_days=90,
        audience={"stages": [Stage.ONGOING, Stage.UTI], "contact_roles": [ContactRole.DECISION_MAKER]},
    )
    batch = _Batch()
    for customer in customers:
        contact = _respondent(customer, (ContactRole.DECISION_MAKER, ContactRole.CHAMPION))
        if contact is None:
            continue
        health = _health(customer)
        ended = customer.stage_changed_at.date() if customer.stage == Stage.CHURNED else today
        first = start + timedelta(days=_index(customer) * 7 % 90)
        for round_ in range(1, 6):
            day = first + timedelta(days=90 * (round_ - 1))
            if day > today - timedelta(days=2) or day >= ended or day < customer.start_date + timedelta(days=45):
                continue
            sent = _moment(day, rng)
            # A few contacts had just answered another survey (e.g. the CSAT after a review): the fatigue rule.
            delivery = _delivery(
                campaign, contact, sent, round_, campaign.expires_after_days, surveyed_lately=rng.random() < 0.05
            )
            answer = None
            if delivery.status == DeliveryStatus.SENT and rng.random() < 0.45:
                # Customers in trouble today were only fair a year ago: the NPS fell before the churn request.
                mood = "fair" if health == "poor" and day < today - timedelta(days=200) else health
                score = _weighted(rng, NPS_WEIGHTS[mood])
                answered = min(sent + timedelta(hours=rng.randint(1, 120)), timezone.now() - timedelta(hours=1))
                answer = _answer(
                    campaign,
                    customer,
                    SurveyKind.NPS,
                    score,
                    _comment(rng, COMMENTS, _band(SurveyKind.NPS, score, 10)),
                    answered,
                )
            batch.add(delivery, answer)
    return campaign, batch


def _csat(customers: list[Customer], rng: random.Random, today: date) -> tuple[Campaign, _Batch]:
    campaign = _campaign(
        name="CSAT pós-passagem de bastão",
        kind=SurveyKind.CSAT,
        created=_moment(today - timedelta(days=400), rng),
        status=CampaignStatus.ACTIVE,
        mode=CampaignMode.TRANSACTIONAL,
        trigger=Trigger.HANDOFF,
        scale_max=5,
        question_pt="De 1 a 5, qual a sua satisfação com a implantação e a sua conclusão?",
        question_en="From 1 to 5, how satisfied are you with the onboarding and how it ended?",
    )
    batch = _Batch()
    for customer in customers:
        handoff = getattr(customer, "handoff", None)
        if handoff is None or handoff.held_on < today - timedelta(days=380) or handoff.held_on >= today:
            continue
        contact = _respondent(customer, (ContactRole.CHAMPION, ContactRole.DECISION_MAKER))
        if contact is None:
            continue
        sent = _moment(handoff.held_on + timedelta(days=1), rng)
        delivery = _delivery(campaign, contact, sent, 1, campaign.expires_after_days)
        answer = None
        if delivery.status == DeliveryStatus.SENT and rng.random() < 0.55:
            score = _weighted(rng, CSAT_WEIGHTS[_health(customer)], low=1)
            answered = min(sent + timedelta(hours=rng.randint(1, 72)), timezone.now() - timedelta(hours=1))
            answer = _answer(
                campaign,
                customer,
                SurveyKind.CSAT,
                score,
                _comment(rng, CSAT_COMMENTS, _band(SurveyKind.CSAT, score, 5), 0.5),
                answered,
            )
        batch.add(delivery, answer)
    return campaign, batch


def _ces(customers: list[Customer], rng: random.Random, today: date) -> tuple[Campaign, _Batch]:
    day = today - timedelta(days=75)
    campaign = _campaign(
        name="CES — chamados de suporte",
        kind=SurveyKind.CES,
        created=_moment(day - timedelta(days=2), rng),
        status=CampaignStatus.CLOSED,
        mode=CampaignMode.NOW,
        audience={"contact_roles": [ContactRole.USER, ContactRole.TECHNICAL]},
        question_pt="A Leme facilitou resolver o seu chamado de suporte?",
        question_en="Leme made it easy to get my support ticket solved.",
    )
    batch = _Batch()
    for customer in customers:
        if customer.stage not in (Stage.ONGOING, Stage.UTI) or customer.start_date > day:
            continue
        contact = _respondent(customer, (ContactRole.USER, ContactRole.TECHNICAL))
        if contact is None or contact.role not in (ContactRole.USER, ContactRole.TECHNICAL):
            continue
        sent = _moment(day, rng)
        delivery = _delivery(campaign, contact, sent, 1, campaign.expires_after_days)
        answer = None
        if delivery.status == DeliveryStatus.SENT and rng.random() < 0.4:
            score = _weighted(rng, CES_WEIGHTS[_health(customer)], low=1)
            answered = sent + timedelta(hours=rng.randint(1, 96))
            answer = _answer(
                campaign,
                customer,
                SurveyKind.CES,
                score,
                _comment(rng, CES_COMMENTS, _band(SurveyKind.CES, score, 7), 0.5),
                answered,
            )
        batch.add(delivery, answer)
    return campaign, batch


def _chi(customers: list[Customer], rng: random.Random, today: date) -> tuple[Campaign, _Batch]:
    day = today - timedelta(days=40)
    campaign = _campaign(
        name=CHI_NAME,
        kind=SurveyKind.CHI,
        created=_moment(day - timedelta(days=1), rng),
        status=CampaignStatus.ACTIVE,
        mode=CampaignMode.RECURRING,
        every_days=180,
        audience={"segments": ["enterprise", "mid"], "contact_roles": [ContactRole.DECISION_MAKER]},
    )
    positions = [p for p, (_pt, _en, who) in enumerate(CHI_CRITERIA, start=1) if who == "customer"]
    batch = _Batch()
    for customer in customers:
        if customer.segment not in ("enterprise", "mid") or customer.stage not in (Stage.ONGOING, Stage.UTI):
            continue
        contact = _respondent(customer, (ContactRole.DECISION_MAKER,))
        if contact is None:
            continue
        sent = _moment(day, rng)
        delivery = _delivery(campaign, contact, sent, 1, campaign.expires_after_days)
        answer = None
        if delivery.status == DeliveryStatus.SENT and rng.random() < 0.5:
            chance = {"good": 0.85, "fair": 0.6, "poor": 0.35}[_health(customer)]
            met = {str(p): int(rng.random() < chance) for p in positions}
            # The customer's part only: the CSM's criteria are the CSM's assessments (seed_chi_assessments).
            score = sum(met.values())
            answered = sent + timedelta(hours=rng.randint(1, 96))
            answer = {
                "campaign": campaign,
                "customer": customer,
                "kind": SurveyKind.CHI,
                "score": score,
                "chi_answers": met,
                "answered_at": answered,
                "updated_at": answered,
            }
        batch.add(delivery, answer)
    return campaign, batch


def _enps(rng: random.Random, today: date) -> tuple[Campaign, _Batch]:
    campaign = _campaign(
        name="eNPS trimestral — time de CS",
        kind=SurveyKind.ENPS,
        created=_moment(today - timedelta(days=130), rng),
        status=CampaignStatus.ACTIVE,
        mode=CampaignMode.RECURRING,
        every_days=90,
    )
    people = list(
        User.objects.filter(email__iendswith=f"@{DEMO_DOMAIN}", is_active=True).select_related("team").order_by("pk")
    )
    # Team members answer first, so that the leader's scope (the team) reaches the minimum too.
    people.sort(key=lambda u: (u.team is None or u.team.name != TEAM_NAME, u.pk))
    batch = _Batch()
    for round_, days_ago, answering in ((1, 125, 7), (2, 35, 8)):
        for n, person in enumerate(people):
            sent = _moment(today - timedelta(days=days_ago), rng)
            delivery = Delivery(
                campaign=campaign,
                round=round_,
                employee=person,
                team=person.team,
                email=person.email,
                language=person.language,
                status=DeliveryStatus.SENT,
                attempts=1,
                created_at=sent,
                sent_at=sent,
                expires_at=sent + timedelta(days=campaign.expires_after_days),
            )
            answer = None
            if n < answering:
                score = _weighted(rng, NPS_WEIGHTS["good" if round_ == 2 else "fair"])
                answered = sent + timedelta(hours=rng.randint(2, 200))
                answer = {
                    "campaign": campaign,
                    "customer": None,
                    "kind": SurveyKind.ENPS,
                    "score": score,
                    "comment": _comment(rng, ENPS_COMMENTS, _band(SurveyKind.ENPS, score, 10), 0.7),
                    "answered_at": answered,
                    "updated_at": answered,
                }
            batch.add(delivery, answer)
    return campaign, batch


def _follow_ups(responses: list[Response], rng: random.Random) -> tuple[int, int]:
    """Every detractor got its follow-up task on the day of the answer (as Leme wrote it before the playbook);
    the loop was closed on most of the older ones."""
    tasks: list[Task] = []
    closed = 0
    now = timezone.now()
    for response in responses:
        if not scoring.is_detractor(response.kind, response.score) or response.customer is None:
            continue
        customer = response.customer
        task = answers.detractor_follow_up(response_id=response.pk, today=timezone.localdate(response.answered_at))
        if task is None:
            continue
        task.created_at = response.answered_at
        tasks.append(task)
        response.follow_up_task_id = task.pk
        age = now - response.answered_at
        # Old loops were all closed (a team does not leave a detractor waiting for months); a few recent
        # ones still wait, so My day shows the work as it looks on a normal morning.
        chance = 1.0 if age > timedelta(days=45) else (0.9 if age > timedelta(days=21) else 0.35)
        if customer.stage == Stage.CHURNED or rng.random() < chance:
            response.loop_closed_at = min(response.answered_at + timedelta(hours=rng.randint(2, 96)), now)
            with clock.at(response.loop_closed_at):
                portfolio_services.task_complete(task=task, actor=customer.owner)
            closed += 1
    Task.objects.bulk_update(tasks, ["created_at"], batch_size=1000)
    Response.objects.bulk_update(
        [r for r in responses if r.follow_up_task_id], ["follow_up_task_id", "loop_closed_at"], batch_size=1000
    )
    return len(tasks), closed


CHI_NAME = "CHI semestral — clientes enterprise"


def seed_chi_assessments(campaign: Campaign, customers: list[Customer], rng: random.Random) -> int:
    """The CSM's part of the CHI for most of the campaign's customers (those surveyed), answered by their CSM
    a few days after the survey went out. Once the campaign has any, it adds none, so running it again does
    nothing (a demo seeded before the CSM's part existed gets it on the next run)."""
    if ChiAssessment.objects.filter(campaign=campaign).exists():
        return 0
    positions = [p for p, (_pt, _en, who) in enumerate(CHI_CRITERIA, start=1) if who == "csm"]
    surveyed = set(Delivery.objects.filter(campaign=campaign).values_list("customer_id", flat=True))
    rows = []
    for customer in customers:
        if customer.pk not in surveyed or rng.random() >= 0.8:
            continue
        chance = {"good": 0.9, "fair": 0.6, "poor": 0.3}[_health(customer)]
        answers = {str(p): int(rng.random() < chance) for p in positions}
        answered = min(campaign.created_at + timedelta(days=rng.randint(2, 30)), timezone.now())
        rows.append(
            ChiAssessment(
                campaign=campaign,
                customer=customer,
                answers=answers,
                score=sum(answers.values()),
                answered_by=customer.owner,
                answered_at=answered,
                updated_at=answered,
            )
        )
    ChiAssessment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def seed_chi_criteria() -> int:
    created = 0
    for position, (text_pt, text_en, answered_by) in enumerate(CHI_CRITERIA, start=1):
        _criterion, was_created = ChiCriterion.objects.get_or_create(
            position=position, defaults={"text_pt": text_pt, "text_en": text_en, "answered_by": answered_by}
        )
        created += was_created
    return created


@transaction.atomic
def seed_surveys(
    customers: int | None = None, seed: int = 2026, progress: Callable[[str], None] | None = None, **_
) -> list[str]:
    """A year of survey history on the demo customers; nothing when ``customers`` is 0 or it is already there.
    ``progress`` is told of each campaign, the follow-ups and the tallies as they are done."""
    report = progress or (lambda line: None)
    if customers == 0:
        return ["surveys: none asked for"]
    if Campaign.objects.filter(name=NPS_NAME).exists():
        lines = ["surveys: demo surveys already there"]
        chi = Campaign.objects.filter(name=CHI_NAME, kind=SurveyKind.CHI).first()
        if chi is not None and not ChiAssessment.objects.filter(campaign=chi).exists():
            # Seeded before the CSM's part existed: those answers counted a made-up CSM part in the score.
            chi_responses = list(chi.responses.all())
            for response in chi_responses:
                response.score = sum(response.chi_answers.values())
            Response.objects.bulk_update(chi_responses, ["score"], batch_size=1000)
            added = seed_chi_assessments(chi, _customers(), random.Random(seed))  # noqa: S311 - demo data
            if added:
                lines.append(f"surveys: {added} CHI assessments by the CSMs added")
        return lines
    demo_customers = _customers()
    if not demo_customers:
        return ["surveys: no demo customers to survey"]
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    today = timezone.localdate()
    criteria = seed_chi_criteria()
    lines = []
    answered: list[Response] = []
    for build in (_nps, _csat, _ces, _chi):
        campaign, batch = build(demo_customers, rng, today)
        responses = batch.write()
        if campaign.kind in (SurveyKind.NPS, SurveyKind.CSAT, SurveyKind.CES):
            answered += responses
        lines.append(f"surveys: {campaign.name}: {len(batch.deliveries)} deliveries, {len(responses)} answers")
        if campaign.kind == SurveyKind.CHI:
            # Its own generator, so the rest of the demo stays as it was.
            added = seed_chi_assessments(campaign, demo_customers, random.Random(seed))  # noqa: S311 - demo data
            lines[-1] += f"; {added} CHI assessments by the CSMs"
        report(f"surveys… {campaign.name}: {len(batch.deliveries)} deliveries, {len(responses)} answers")
    campaign, batch = _enps(rng, today)
    responses = batch.write()
    lines.append(f"surveys: {campaign.name}: {len(batch.deliveries)} deliveries, {len(responses)} answers")
    report(f"surveys… {campaign.name}: {len(batch.deliveries)} deliveries, {len(responses)} answers")
    tasks, closed = _follow_ups(answered, rng)
    lines.append(f"surveys: {tasks} detractor follow-up tasks ({closed} loops closed); {criteria} CHI criteria added")
    report(f"surveys… {tasks} detractor follow-up tasks")
    counted_for_fill()  # whom each bulk-written answer counts for: the CSM, segment and plan of its day
    built = tallies.rebuild()  # large demos read their results from the tallies at once, without a beat
    lines.append(f"surveys: tallies built ({built['answer_rows']} + {built['delivery_rows']} rows)")
    report(f"tallies… {built['answer_rows']} + {built['delivery_rows']} rows")
    return lines
