"""The demo portfolio's plans: who each demo customer is and its whole life, decided before anything is written.

``plan_customer(index, seed, today, policies)`` is a pure function that describes a customer's company,
contacts, subscriptions and their changes over up to three years, onboarding milestones, handoff, success
reviews, churn requests, UTI, expansion, timeline touches and tasks. Each customer has its own random
generator seeded by ``(seed, index)``, so the data is the same on every run and does not depend on how many
customers are built or in which order. ``demo.history`` and ``demo.bulk`` write a plan.

The first ``len(SCRIPT)`` customers are scripted so that even a small demo shows every journey state,
and Lucas (the CSM people log in as) has a lively "My day". Lucas keeps at most ``LUCAS_CAP`` customers,
so a 50,000-customer base has one CSM with exactly 1,000 (what ``bench/portfolio_page.py`` measures).
"""

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from demo.words import (
    ADD_ONS,
    AREAS,
    BUSINESS_TYPES,
    CALLS,
    CHURN_DETAILS,
    DDDS,
    DELINQUENT_EMAIL,
    EMAILS,
    FEATURES,
    FIRST_NAMES,
    FIXED_NAMES,
    HANDOFF_GOALS,
    HANDOFF_RESULTS,
    HANDOFF_RISKS,
    INVOLUNTARY_REASONS,
    LAST_NAMES,
    MEETINGS,
    NEXT_TIER,
    NOTES,
    NOUNS,
    ONBOARDING_FOLLOW_UPS,
    ONBOARDING_TASKS,
    ONBOARDING_TOUCHES,
    PRODUCT,
    QUALIFIERS,
    REVIEW_ANSWERS,
    REVIEW_GOALS,
    REVIEW_OUTCOMES,
    SAVE_OFFERS,
    SUFFIXES,
    TASK_TITLES,
    TIER_BY_SEGMENT,
    TIER_LABEL,
    TIER_PRICE,
    VOLUNTARY_REASONS,
)
from portfolio import ledger, services
from portfolio.models import (
    BILLING_MONTHS,
    ActivityKind,
    BillingPeriod,
    ChurnKind,
    ChurnOutcome,
    ChurnReason,
    ContactRole,
    HandoffChannel,
    OpportunityKind,
    OpportunitySource,
    OpportunityStage,
    Segment,
    ServiceModel,
    Stage,
    SubscriptionStatus,
    Tag,
    UtiExit,
)
from portfolio.money import reais
from portfolio.services.reviews import review_answer

EXTERNAL_PREFIX = "demo-"
CSMS = ["lucas", "beatriz", "rafael", "camila", "thiago"]
ISM = "juliana"
FARMER = "gustavo"
LUCAS_CAP = 1000
HISTORY_DAYS = 1125  # about 37 months: three years for the metrics' trailing figures and cohorts
# The shape of the base over those years, so the metrics page has something true to show: more customers won
# each year than the year before (growth), one quarter a year ago when many left (the bad quarter), and one
# cohort two years ago, won with a discount campaign, that churns more than the others.
BAD_QUARTER_SHARE = 0.35  # of the churned customers old enough to have left in it
PROMO_COHORT_SHARE = 0.3  # of the churned customers, won in the campaign's quarter

# --- Who, and which story: the scripted showcase ----------------------------------------------------------

# (owner, scenario, segment). Every journey state appears in the first 25 customers, whatever the size.
SCRIPT = [
    ("lucas", "churn_open", Segment.MID_MARKET),
    ("lucas", "uti", Segment.MID_MARKET),
    ("lucas", "review_overdue", Segment.ENTERPRISE),
    ("lucas", "review_soon", Segment.MID_MARKET),
    ("lucas", "onboarding_late", Segment.MID_MARKET),
    ("lucas", "onboarding", Segment.SMB),
    ("lucas", "delinquent", Segment.SMB),
    ("lucas", "expansion", Segment.ENTERPRISE),
    ("lucas", "churned", Segment.SMB),
    ("lucas", "reactivated", Segment.MID_MARKET),
    ("lucas", "quiet", Segment.SMB),
    ("lucas", "downsold_recovered", Segment.MID_MARKET),
    ("beatriz", "churn_open_involuntary", Segment.SMB),
    ("beatriz", "uti_downsell", Segment.MID_MARKET),
    ("beatriz", "onboarding_trial", Segment.SMB),
    ("beatriz", "review_soon", Segment.ENTERPRISE),
    ("rafael", "churned_after_uti", Segment.MID_MARKET),
    ("rafael", "onboarding_late", Segment.ENTERPRISE),
    ("rafael", "review_overdue", Segment.MID_MARKET),
    ("camila", "churned_recent", Segment.SMB),
    ("camila", "expansion", Segment.MID_MARKET),
    ("camila", "churn_open", Segment.ENTERPRISE),
    ("thiago", "reactivated", Segment.SMB),
    ("thiago", "delinquent", Segment.MID_MARKET),
    ("thiago", "quiet", Segment.MID_MARKET),
]
ONBOARDING_SCENARIOS = {"onboarding", "onboarding_late", "onboarding_trial"}
# Handed off and carrying on: as young as a week after their first success.
YOUNG_SCENARIOS = {"ongoing", "quiet", "expansion"}
# Everyone else, by weight: the shape of a healthy-but-real base.
SCENARIO_WEIGHTS = {
    "ongoing": 440,
    "review_overdue": 60,
    "review_soon": 50,
    "quiet": 80,
    "expansion": 60,
    "delinquent": 30,
    "churn_open": 20,
    "churn_open_involuntary": 5,
    "uti": 10,
    "uti_downsell": 5,
    "downsold_recovered": 15,
    "churned": 100,
    "churned_recent": 10,
    "churned_after_uti": 5,
    "reactivated": 25,
    "onboarding": 40,
    "onboarding_late": 15,
    "onboarding_trial": 15,
}
_SCENARIOS, _WEIGHTS = list(SCENARIO_WEIGHTS), list(SCENARIO_WEIGHTS.values())
# The first customer of each CSM in the script gets an overdue, a today and an upcoming task.
CHURNED_SCENARIOS = {"churned", "churned_recent", "churned_after_uti"}
TRIO = {
    owner: next(
        i for i, (o, s, _) in enumerate(SCRIPT) if o == owner and s not in ONBOARDING_SCENARIOS | CHURNED_SCENARIOS
    )
    for owner in CSMS
}
_LUCAS_SCRIPTED = sum(1 for owner, _, _ in SCRIPT if owner == "lucas")
_FIRST_LUCAS_SLOT = len(SCRIPT) + (-len(SCRIPT)) % len(CSMS)


def owner_for(index: int) -> str:
    """Round-robin over the five CSMs, except that Lucas stops at LUCAS_CAP customers; a function of the
    index alone, so a base grown later keeps everyone's customers."""
    if index < len(SCRIPT):
        return SCRIPT[index][0]
    if index % len(CSMS):
        return CSMS[index % len(CSMS)]
    if (index - _FIRST_LUCAS_SLOT) // len(CSMS) < LUCAS_CAP - _LUCAS_SCRIPTED:
        return "lucas"
    return CSMS[1 + (index // len(CSMS)) % (len(CSMS) - 1)]


# --- Small helpers ----------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return "".join(ch for ch in _fold(text).lower() if ch.isalnum())


def cnpj_for(index: int) -> str:
    """A valid, unique CNPJ for a demo customer: an 8-digit root spread over the index, head office 0001,
    and its two check digits."""
    root = f"{(index * 73_939_133 + 12_345_679) % 100_000_000:08d}"
    digits = [int(d) for d in root + "0001"]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


def _reais(rng: random.Random, low: int, high: int) -> int:
    """A price in cents between two amounts in reais, rounded to R$ 10 (or R$ 1 under R$ 200)."""
    step = 10 if high >= 200 else 1
    return rng.randrange(low // step, high // step + 1) * step * 100


def _pick(rng: random.Random, weighted: list[tuple]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def moment(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


# --- The plan -------------------------------------------------------------------------------------------


@dataclass
class Line:
    """One subscription over time: the row it starts as and the rows that replace it at each change."""

    key: int
    product: str
    plan: str
    billing: str
    start: date
    amount: int
    # A converted trial starts as a row worth 0 and becomes paid that day. (A trial row's status turns into
    # "replaced" at the change, and a replaced row counts its amount: priced trial rows would put the trial
    # weeks into MRR once the ledger is recomputed.)
    trial_until: date | None = None
    in_trial: bool = False  # still a trial today
    changes: list[tuple[date, int]] = field(default_factory=list)  # (effective date, new amount per period)
    end: date | None = None
    ended_by_churn: bool = False
    delinquent_since: date | None = None
    opportunity: int | None = None  # index in plan.opportunities of the cross-sell that created it

    def amount_on(self, day: date) -> int:
        amount = self.amount
        for when, new in self.changes:
            if when <= day:
                amount = new
        return amount

    def last_change(self) -> date:
        return max([self.start, *(d for d, _ in self.changes), *([self.trial_until] if self.trial_until else [])])

    def runs_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end > day)

    def rows(self) -> list[dict]:
        """The subscription rows this line leaves, oldest first, as the services would write them."""
        cuts: list[tuple[date, int, str]] = []
        if self.trial_until:
            cuts.append((self.trial_until, self.amount, SubscriptionStatus.ACTIVE))
        cuts += [(when, amount, SubscriptionStatus.ACTIVE) for when, amount in self.changes]
        first_status = SubscriptionStatus.TRIAL if (self.trial_until or self.in_trial) else SubscriptionStatus.ACTIVE
        rows = [{"start": self.start, "amount": 0 if self.trial_until else self.amount, "status": first_status}]
        for when, amount, status in cuts:
            rows[-1].update(end=when, final=SubscriptionStatus.REPLACED)
            rows.append({"start": when, "amount": amount, "status": status})
        last = rows[-1]
        last["end"] = self.end
        if self.end:
            last["final"] = SubscriptionStatus.CANCELLED
        elif self.delinquent_since:
            last["final"] = SubscriptionStatus.DELINQUENT
        else:
            last["final"] = last["status"]
        return rows


@dataclass
class ContactPlan:
    name: str
    email: str
    phone: str
    role: str

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass
class ReviewPlan:
    due: date
    held_on: date
    past: list[dict]
    future: list[dict]
    goals: list[str]
    outcome: str


@dataclass
class ChurnPlan:
    kind: str
    reason: str
    detail: str
    requested_by: str
    requested_on: date
    offers: list[tuple[date, str]] = field(default_factory=list)
    outcome: str = ChurnOutcome.OPEN
    resolved_on: date | None = None
    downsell_to: int | None = None  # new amount of the main line, for a downsell
    uti_exit: str | None = None  # None while in UTI (or without UTI); recovered / churned when it left
    uti_exit_on: date | None = None
    uti_checkins_done: list[int] = field(default_factory=list)


@dataclass
class OpportunityPlan:
    kind: str
    source: str
    title: str
    mrr: int
    stage: str
    created_on: date
    closed_on: date | None = None


@dataclass
class TouchPlan:
    kind: str
    title: str
    body: str
    author: str
    on: date
    hour: int


@dataclass
class TaskPlan:
    title: str
    owner: str
    due: date
    created_on: date
    done_on: date | None = None
    notes: str = ""


@dataclass
class CustomerPlan:
    index: int
    scenario: str
    name: str
    cnpj: str
    segment: str
    plan_tier: str
    service_model: str
    owner: str
    ism: str | None
    farmer: str | None
    start: date
    renewal: date | None
    tags: list[str]
    contacts: list[ContactPlan]
    lines: list[Line] = field(default_factory=list)
    first_value_on: date | None = None
    first_success_on: date | None = None
    handoff: dict | None = None
    reviews: list[ReviewPlan] = field(default_factory=list)
    review_due: date | None = None  # the scheduled review at the end, if any
    reschedule_review: bool = False  # review_due differs from the cadence: set with review_schedule
    reactivated_on: date | None = None
    churns: list[ChurnPlan] = field(default_factory=list)
    opportunities: list[OpportunityPlan] = field(default_factory=list)
    touches: list[TouchPlan] = field(default_factory=list)
    tasks: list[TaskPlan] = field(default_factory=list)
    transitions: list[tuple[date, str, str]] = field(default_factory=list)
    cancelled_reviews: list[tuple[date, list[str]]] = field(default_factory=list)  # (due, carried goals) at churn

    @property
    def external_id(self) -> str:
        return f"{EXTERNAL_PREFIX}{self.index:05d}"

    @property
    def stage(self) -> str:
        return self.transitions[-1][2] if self.transitions else Stage.ONBOARDING

    @property
    def churn_day(self) -> date | None:
        """The day the customer churned for good (None if it is a customer today)."""
        return self.transitions[-1][0] if self.stage == Stage.CHURNED else None

    def contact(self, rng: random.Random) -> ContactPlan:
        return rng.choice(self.contacts)


def _customer_name(rng: random.Random, segment: str) -> tuple[str, str]:
    kind = rng.choice(BUSINESS_TYPES[segment])
    roll = rng.random()
    if roll < 0.35:
        core = rng.choice(FIXED_NAMES)
    elif roll < 0.85:
        core = f"{rng.choice(NOUNS)} {rng.choice(QUALIFIERS)}"
    else:
        a, b = rng.sample(LAST_NAMES, 2)
        core = rng.choice([f"{a} & {b}", f"{a} & Filhos", f"Irmãos {a}"])
    return f"{kind} {core} {rng.choice(SUFFIXES[segment])}", core


def _contacts(rng: random.Random, domain: str, *, decision_maker: bool, champion: bool) -> list[ContactPlan]:
    roles = [ContactRole.DECISION_MAKER] if decision_maker else []
    roles += [ContactRole.CHAMPION] if champion else []
    roles += [ContactRole.USER] * rng.randint(1, 3)
    roles += [ContactRole.FINANCE] if rng.random() < 0.6 else []
    roles += [ContactRole.TECHNICAL] if rng.random() < 0.4 else []
    contacts, used = [], set()
    for role in roles:
        while True:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if (first, last) not in used:
                used.add((first, last))
                break
        email = f"{_slug(first)}.{_slug(last)}@{domain}"
        phone = f"({rng.choice(DDDS)}) 9{rng.randint(6000, 9999)}-{rng.randint(1000, 9999)}"
        contacts.append(ContactPlan(f"{first} {last}", email, phone, role))
    return contacts


def _values(rng: random.Random, plan: CustomerPlan) -> dict[str, str | int]:
    contact = plan.contact(rng)
    return {
        "contact": contact.name,
        "first": contact.first,
        **rng.choice(FEATURES).forms(),
        "area": rng.choice(AREAS),
        "n": rng.choice([12, 25, 40, 50, 80, 120, 200, 350]),
    }


def _fill(template: str, rng: random.Random, plan: CustomerPlan) -> str:
    return template.format(**_values(rng, plan))


def _fill_touch(title: str, body: str, rng: random.Random, plan: CustomerPlan) -> tuple[str, str]:
    """A touch's title and body, naming the same contact, feature and area. Draws a second set of values it does
    not use, so the demo's random sequence stays what it was when title and body were filled apart."""
    values = _values(rng, plan)
    _values(rng, plan)
    return title.format(**values), body.format(**values)


def _review_answers(questions: list, rng: random.Random, plan: CustomerPlan) -> list[dict]:
    """An answer to each review question, from that question's own list of answers."""
    picks = rng.sample(range(3), 3)
    return [
        review_answer(question, _fill(REVIEW_ANSWERS[question.key][pick], rng, plan))
        for question, pick in zip(questions, picks, strict=True)
    ]


def _between(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=rng.randint(0, max(0, (high - low).days)))


def _quarter(today: date, back: int) -> tuple[date, date]:
    """The first and last day of the calendar quarter ``back`` quarters before today's."""
    months = today.year * 12 + (today.month - 1) // 3 * 3 - 3 * back
    first = date(months // 12, months % 12 + 1, 1)
    after = months + 3
    return first, date(after // 12, after % 12 + 1, 1) - timedelta(days=1)


def bad_quarter(today: date) -> tuple[date, date]:
    """The quarter that went badly: four quarters before this one, a share of the churned customers left in it."""
    return _quarter(today, 4)


def promo_quarter(today: date) -> tuple[date, date]:
    """The quarter of the discount campaign, eight quarters ago: its cohort churns more than the others."""
    return _quarter(today, 8)


def _age(rng: random.Random, min_age: int) -> int:
    """Days since a customer started, between ``min_age`` and ``HISTORY_DAYS``, younger ones more likely: each
    year wins more customers than the one before."""
    return min_age + int((HISTORY_DAYS - min_age) * (1 - (1 - rng.random()) ** 0.5))


def plan_customer(index: int, seed: int, today: date, policies: dict[str, tuple]) -> CustomerPlan:
    """Everything about demo customer ``index``, decided by ``random.Random((seed, index))`` alone.

    ``policies`` maps each service model to (first value days, first success days, review months, handoff by
    meeting, UTI days), as ``services.policy_for`` has them.
    """
    rng = random.Random(f"{seed}:{index}")  # noqa: S311 - demo data, not security
    if index < len(SCRIPT):
        owner, scenario, segment = SCRIPT[index]
    else:
        owner = owner_for(index)
        scenario = rng.choices(_SCENARIOS, _WEIGHTS)[0]
        segment = _pick(rng, [(Segment.SMB, 60), (Segment.MID_MARKET, 30), (Segment.ENTERPRISE, 10)])
    if segment == Segment.ENTERPRISE:
        service_model = ServiceModel.HIGH_TOUCH
    elif segment == Segment.MID_MARKET:
        service_model = rng.choice([ServiceModel.HIGH_TOUCH, ServiceModel.LOW_TOUCH])
    else:
        service_model = rng.choice([ServiceModel.LOW_TOUCH, ServiceModel.TECH_TOUCH, ServiceModel.TECH_TOUCH])
    first_value_days, first_success_days, review_months, by_meeting, uti_days = policies[service_model]
    if scenario in ("review_overdue", "review_soon") and not review_months:
        scenario = "ongoing"
    tier = _pick(rng, TIER_BY_SEGMENT[segment])
    name, core = _customer_name(rng, segment)
    quiet = scenario == "quiet"
    contacts = _contacts(
        rng,
        f"{_slug(core)}.com.br",
        decision_maker=not quiet and rng.random() > 0.12,
        champion=not quiet and rng.random() > 0.12,
    )

    # When it started: onboarding customers recently, the others over the last three years.
    onboarding = scenario in ONBOARDING_SCENARIOS
    if scenario == "onboarding":
        start = today - timedelta(days=rng.randint(1, max(2, first_value_days - 1)))
    elif scenario == "onboarding_trial":
        start = today - timedelta(days=rng.randint(2, 12))
    elif scenario == "onboarding_late":
        if rng.random() < 0.6 or index < len(SCRIPT):
            # First value missed; first success due within the week: at risk.
            start = today - timedelta(days=first_success_days - rng.randint(1, 6))
        else:
            start = today - timedelta(days=first_success_days + rng.randint(1, 10))
    else:
        # A customer in ongoing, quiet or growing may have been handed off a week ago; the stories that need a past
        # (reviews due, churn, UTI, a return) are older. Without the young ones the base won nobody between the
        # onboardings of the last weeks and five months ago.
        young = first_success_days + 7 if scenario in YOUNG_SCENARIOS else 150
        min_age = {"reactivated": 450, "churned_after_uti": 320, "downsold_recovered": 320}.get(scenario, young)
        start = today - timedelta(days=_age(rng, min_age))
        promo_first, promo_last = promo_quarter(today)
        if scenario == "churned" and rng.random() < PROMO_COHORT_SHARE:
            start = _between(rng, promo_first, promo_last)

    plan = CustomerPlan(
        index=index,
        scenario=scenario,
        name=name,
        cnpj=cnpj_for(index),
        segment=segment,
        plan_tier=tier,
        service_model=service_model,
        owner=owner,
        ism=ISM if service_model != ServiceModel.TECH_TOUCH else None,
        farmer=FARMER if scenario == "expansion" or (segment != Segment.SMB and rng.random() < 0.12) else None,
        start=start,
        renewal=None,
        tags=[],
        contacts=contacts,
    )

    # The main subscription.
    low, high = TIER_PRICE[tier]
    monthly = _reais(rng, low, high)
    billing = BillingPeriod.MONTHLY
    roll = rng.random()
    if (segment == Segment.ENTERPRISE and roll < 0.5) or (segment == Segment.MID_MARKET and roll < 0.15):
        billing = BillingPeriod.ANNUAL
    elif segment == Segment.MID_MARKET and roll < 0.25:
        billing = BillingPeriod.QUARTERLY
    elif segment == Segment.SMB and roll < 0.08:
        billing = BillingPeriod.ANNUAL
    months = BILLING_MONTHS[billing]
    amount = monthly * months if months < 12 else round(monthly * 12 * 0.9 / 100) * 100
    main = Line(0, PRODUCT, TIER_LABEL[tier], billing, start, amount)
    if scenario == "onboarding_trial":
        main.in_trial, main.billing, main.amount = True, BillingPeriod.MONTHLY, monthly
    elif segment == Segment.SMB and not onboarding and rng.random() < 0.2:
        main.trial_until = start + timedelta(days=14)
    plan.lines.append(main)
    if service_model == ServiceModel.HIGH_TOUCH and rng.random() < 0.6:
        plan.lines.append(Line(1, "Implantação assistida", "", BillingPeriod.ONE_OFF, start, _reais(rng, 1500, 12000)))
    multiplier = {Segment.SMB: 1, Segment.MID_MARKET: 2, Segment.ENTERPRISE: 4}[segment]

    def add_on(day: date, amount: int | None = None) -> Line:
        product, low, high = rng.choice(ADD_ONS)
        line = Line(len(plan.lines), product, "", BillingPeriod.MONTHLY, day, amount or _reais(rng, low, high))
        if amount is None:
            line.amount *= multiplier
        plan.lines.append(line)
        return line

    # Onboarding: first value, first success, handoff.
    fv_target = start + timedelta(days=first_value_days)
    fs_target = start + timedelta(days=first_success_days)
    if onboarding:
        if scenario != "onboarding_late" and (today - start).days >= 3 and rng.random() < 0.5:
            plan.first_value_on = min(today, start + timedelta(days=rng.randint(2, first_value_days)))
        elif scenario == "onboarding_late" and fs_target < today:
            plan.first_value_on = fv_target + timedelta(days=rng.randint(3, 8))
    else:
        plan.first_value_on = max(start + timedelta(days=1), fv_target + timedelta(days=rng.randint(-4, 6)))
        plan.first_success_on = max(
            plan.first_value_on + timedelta(days=1), fs_target + timedelta(days=rng.randint(-12, 12))
        )
        held = plan.first_success_on + timedelta(days=rng.randint(1, 6))
        contact_by_role = {c.role: c for c in contacts}
        people = [
            f"{c.name} ({label})"
            for role, label in ((ContactRole.DECISION_MAKER, "decisor"), (ContactRole.CHAMPION, "champion"))
            if (c := contact_by_role.get(role))
        ] or [f"{contacts[0].name} (usuário principal)"]
        plan.handoff = {
            "held_on": held,
            "channel": HandoffChannel.MEETING if by_meeting or rng.random() < 0.4 else HandoffChannel.EMAIL,
            "results": _fill(rng.choice(HANDOFF_RESULTS), rng, plan),
            "goals": _fill(rng.choice(HANDOFF_GOALS), rng, plan),
            "risks": rng.choice(HANDOFF_RISKS),
            "stakeholders": "; ".join(people),
        }
        plan.transitions.append((held, Stage.ONBOARDING, Stage.ONGOING))

    # The churn story, if any: when requests happened and how they ended.
    reason_pool = VOLUNTARY_REASONS
    requested_by = next((c.name for c in contacts if c.role == ContactRole.DECISION_MAKER), contacts[0].name)

    def churn_request(requested_on: date, *, involuntary: bool = False) -> ChurnPlan:
        code = _pick(rng, INVOLUNTARY_REASONS if involuntary else reason_pool)
        detail = rng.choice(CHURN_DETAILS[code])
        request = ChurnPlan(
            kind=ChurnKind.INVOLUNTARY if involuntary else ChurnKind.VOLUNTARY,
            reason=code,
            detail=detail,
            requested_by="Financeiro" if involuntary else requested_by,
            requested_on=requested_on,
        )
        plan.churns.append(request)
        return request

    history_end = today  # subscription history changes stop 45 days before this
    churn_on: date | None = None
    if scenario == "churn_open":
        request = churn_request(today - timedelta(days=rng.randint(0 if index else 2, 5)))
        if request.requested_on < today:
            request.offers.append((request.requested_on + timedelta(days=1), rng.choice(SAVE_OFFERS)))
        history_end = request.requested_on
    elif scenario == "churn_open_involuntary":
        main.delinquent_since = today - timedelta(days=rng.randint(18, 35))
        request = churn_request(main.delinquent_since + timedelta(days=15), involuntary=True)
        request.detail = request.detail.format(
            amount=reais(main.amount), days=(request.requested_on - main.delinquent_since).days
        )
        history_end = main.delinquent_since
    elif scenario in ("uti", "uti_downsell"):
        request = churn_request(today - timedelta(days=rng.randint(9, 18)))
        request.offers.append((request.requested_on + timedelta(days=1), rng.choice(SAVE_OFFERS)))
        request.resolved_on = request.requested_on + timedelta(days=rng.randint(2, 4))
        request.outcome = ChurnOutcome.RECOVERED if scenario == "uti" else ChurnOutcome.DOWNSELL
        request.uti_checkins_done = [1] if index < len(SCRIPT) else []
        history_end = request.requested_on
        plan.transitions.append((request.resolved_on, Stage.ONGOING, Stage.UTI))
    elif scenario in ("downsold_recovered", "churned_after_uti"):
        request = churn_request(today - timedelta(days=rng.randint(100, 200)))
        request.offers.append((request.requested_on + timedelta(days=1), rng.choice(SAVE_OFFERS)))
        request.resolved_on = request.requested_on + timedelta(days=rng.randint(2, 4))
        request.outcome = ChurnOutcome.DOWNSELL if scenario == "downsold_recovered" else ChurnOutcome.RECOVERED
        request.uti_checkins_done = [1, 2, 3]
        plan.transitions.append((request.resolved_on, Stage.ONGOING, Stage.UTI))
        if scenario == "downsold_recovered":
            request.uti_exit, request.uti_exit_on = UtiExit.RECOVERED, request.resolved_on + timedelta(days=uti_days)
            plan.transitions.append((request.uti_exit_on, Stage.UTI, Stage.ONGOING))
        else:
            request.uti_exit = UtiExit.CHURNED
            request.uti_exit_on = request.resolved_on + timedelta(days=rng.randint(18, uti_days))
            request.uti_checkins_done = [1, 2]
            churn_on = request.uti_exit_on
            plan.transitions.append((churn_on, Stage.UTI, Stage.CHURNED))
        history_end = request.requested_on
    elif scenario in ("churned", "churned_recent", "reactivated"):
        if scenario == "churned_recent":
            churn_on = today - timedelta(days=rng.randint(0, min(today.day - 1, 12)))
        elif scenario == "reactivated":
            churn_on = today - timedelta(days=rng.randint(230, (today - start).days - 200))
        else:
            churn_on = today - timedelta(days=rng.randint(20, (today - start).days - 110))
            bad_first, bad_last = bad_quarter(today)
            earliest = max(bad_first, start + timedelta(days=110))
            if earliest <= bad_last and rng.random() < BAD_QUARTER_SHARE:
                churn_on = _between(rng, earliest, bad_last)
        request = churn_request(churn_on - timedelta(days=rng.randint(4, 20)))
        if rng.random() < 0.6:
            request.offers.append((request.requested_on + timedelta(days=1), rng.choice(SAVE_OFFERS)))
        request.outcome, request.resolved_on = ChurnOutcome.CHURNED, churn_on
        plan.transitions.append((churn_on, Stage.ONGOING, Stage.CHURNED))
        history_end = request.requested_on
    if scenario == "delinquent" or (scenario == "ongoing" and rng.random() < 0.04):
        main.delinquent_since = today - timedelta(days=rng.randint(2, 12))
        history_end = main.delinquent_since
        plan.tags.append("risco financeiro")

    # Subscription history between the handoff and the churn story: upsells, cross-sells, downgrades.
    if plan.handoff:
        window_start = plan.handoff["held_on"] + timedelta(days=20)
        window_end = history_end - timedelta(days=45)
        span = (window_end - window_start).days
        events = int(span / 30 / rng.uniform(5, 12)) if span > 0 else 0
        if scenario == "expansion":
            events = max(events, 2)
        if (span > 0 and scenario not in ("ongoing", "quiet")) or rng.random() < 0.8:
            events = max(events, 1 if span > 0 else 0)
        days = sorted(_between(rng, window_start, window_end) for _ in range(events))
        for n, day in enumerate(days):
            running_add_ons = [
                line for line in plan.lines[1:] if line.billing == BillingPeriod.MONTHLY and line.runs_on(day)
            ]
            roll = rng.random()
            if scenario == "expansion" and n == 0:
                roll = 0.5  # its first event is the won cross-sell
            if roll < 0.35:
                if main.last_change() < day and main.runs_on(day):
                    current = main.amount_on(day)
                    main.changes.append((day, round(current * rng.uniform(1.15, 1.5) / 1000) * 1000))
            elif roll < 0.7:
                line = add_on(day)
                if (scenario == "expansion" and n == 0) or rng.random() < 0.25:
                    opened = max(plan.handoff["held_on"], day - timedelta(days=rng.randint(10, 40)))
                    plan.opportunities.append(
                        OpportunityPlan(
                            OpportunityKind.CROSS_SELL,
                            rng.choice([OpportunitySource.PROACTIVE, OpportunitySource.REACTIVE]),
                            line.product,
                            line.amount,
                            OpportunityStage.WON,
                            opened,
                            day,
                        )
                    )
                    line.opportunity = len(plan.opportunities) - 1
            elif roll < 0.85 or not running_add_ons:
                if main.last_change() < day and main.runs_on(day):
                    current = main.amount_on(day)
                    main.changes.append((day, max(10_000, round(current * rng.uniform(0.7, 0.9) / 1000) * 1000)))
            else:
                line = rng.choice(running_add_ons)
                if line.last_change() < day:
                    line.end = day

    # The churn story's effects on subscriptions and the stage.
    for request in plan.churns:
        if request.outcome == ChurnOutcome.DOWNSELL:
            current = main.amount_on(request.resolved_on)
            request.downsell_to = max(10_000, round(current * rng.uniform(0.6, 0.8) / 1000) * 1000)
            main.changes.append((request.resolved_on, request.downsell_to))
    if churn_on:
        for line in plan.lines:
            if line.end is None:
                line.end, line.ended_by_churn = max(churn_on, line.start), True
    if scenario == "reactivated":
        plan.reactivated_on = min(today - timedelta(days=30), churn_on + timedelta(days=rng.randint(60, 160)))
        back = Line(len(plan.lines), PRODUCT, TIER_LABEL[tier], BillingPeriod.MONTHLY, plan.reactivated_on, monthly)
        back.amount = round(monthly * rng.uniform(0.7, 1.1) / 1000) * 1000
        plan.lines.append(back)
        plan.transitions.append((plan.reactivated_on, Stage.CHURNED, Stage.ONGOING))

    # Success reviews, on the service model's cadence, while the customer is a customer.
    alive = [(plan.handoff["held_on"], churn_on or today)] if plan.handoff else []
    if plan.reactivated_on:
        alive.append((plan.reactivated_on, today))
    if review_months:
        goals: list[str] = []
        for first_day, last_day in alive:
            due = ledger.add_months(first_day, review_months)
            plan.review_due = due
            while due < last_day:
                held = min(
                    last_day - timedelta(days=1), today - timedelta(days=1), due + timedelta(rng.randint(-7, 10))
                )
                held = max(held, first_day + timedelta(days=1), *(r.held_on + timedelta(days=1) for r in plan.reviews))
                if held >= last_day:
                    break
                past = _review_answers(services.REVIEW_TEMPLATE["past"], rng, plan)
                future = _review_answers(services.REVIEW_TEMPLATE["future"], rng, plan)
                goals = [_fill(g, rng, plan) for g in rng.sample(REVIEW_GOALS, 2)]
                plan.reviews.append(
                    ReviewPlan(due, held, past, future, goals, _fill(rng.choice(REVIEW_OUTCOMES), rng, plan))
                )
                due = ledger.add_months(held, review_months)
                plan.review_due = due
            if last_day < today:  # the customer churned: its scheduled review is cancelled
                plan.cancelled_reviews.append((due, goals))
        if plan.stage == Stage.CHURNED:
            plan.review_due = None
        elif scenario == "review_overdue":
            plan.review_due, plan.reschedule_review = today - timedelta(days=rng.randint(3, 25)), True
        elif scenario == "review_soon":
            plan.review_due, plan.reschedule_review = today + timedelta(days=rng.randint(1, 10)), True

    # Expansion opportunities still open (and some lost).
    opp_owner_start = plan.handoff["held_on"] if plan.handoff else start
    if plan.stage in (Stage.ONGOING, Stage.UTI) and (scenario == "expansion" or rng.random() < 0.12):
        plan.opportunities.append(
            OpportunityPlan(
                OpportunityKind.UPSELL,
                OpportunitySource.PROACTIVE,
                f"Upgrade para o plano {NEXT_TIER[tier]}",
                round(monthly * rng.uniform(0.2, 0.5) / 1000) * 1000,
                OpportunityStage.NEGOTIATION if scenario == "expansion" else rng.choice(["identified", "proposal"]),
                max(opp_owner_start, today - timedelta(days=rng.randint(5, 30))),
            )
        )
    if scenario == "expansion" and (today - opp_owner_start).days > 120:
        opened = _between(rng, opp_owner_start, today - timedelta(days=90))
        plan.opportunities.append(
            OpportunityPlan(
                OpportunityKind.CROSS_SELL,
                OpportunitySource.PROACTIVE,
                rng.choice(ADD_ONS)[0],
                _reais(rng, 190, 990),
                OpportunityStage.LOST,
                opened,
                opened + timedelta(days=rng.randint(15, 45)),
            )
        )

    # The timeline: human touches, newest first backwards, and a few notes.
    author = owner
    if onboarding:
        author = plan.ism or owner
        day = start
        for kind, title, body in ONBOARDING_TOUCHES:
            day = day + timedelta(days=rng.randint(0, 4))
            if day > today:
                break
            plan.touches.append(TouchPlan(kind, *_fill_touch(title, body, rng, plan), author, day, 10))
        day += timedelta(days=rng.randint(5, 9))
        while day < today:
            title, body = rng.choice(ONBOARDING_FOLLOW_UPS)
            kind = ActivityKind.EMAIL if title.startswith("E-mail") else ActivityKind.CALL
            plan.touches.append(TouchPlan(kind, *_fill_touch(title, body, rng, plan), author, day, 15))
            day += timedelta(days=rng.randint(5, 9))
    else:
        cadence = {ServiceModel.HIGH_TOUCH: 18, ServiceModel.LOW_TOUCH: 40, ServiceModel.TECH_TOUCH: 60}[service_model]
        last_day = plan.churn_day or today
        gap = rng.randint(50, 120) if quiet else rng.randint(0, 40 if cadence > 20 else 25)
        day = last_day - timedelta(days=gap)
        first_day = plan.handoff["held_on"] if plan.handoff else start
        while day > first_day and len(plan.touches) < 10:
            if service_model == ServiceModel.TECH_TOUCH:
                kind, (title, body) = ActivityKind.EMAIL, rng.choice(EMAILS)
            else:
                kind = rng.choice([ActivityKind.CALL, ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL])
                title, body = rng.choice({"call": CALLS, "meeting": MEETINGS, "email": EMAILS}[kind])
            plan.touches.append(TouchPlan(kind, *_fill_touch(title, body, rng, plan), author, day, rng.randint(8, 18)))
            day -= timedelta(days=max(3, int(cadence * rng.uniform(0.5, 1.5))))
        if rng.random() < 0.3 and plan.touches:
            title, body = rng.choice(NOTES)
            on = _between(rng, first_day, last_day)
            plan.touches.append(TouchPlan(ActivityKind.NOTE, *_fill_touch(title, body, rng, plan), author, on, 17))
        if main.delinquent_since:
            title, body = DELINQUENT_EMAIL
            on = min(today, main.delinquent_since + timedelta(days=1))
            plan.touches.append(TouchPlan(ActivityKind.EMAIL, title, _fill(body, rng, plan), author, on, 11))

    # Tasks: the manual work on each CSM's list.
    if plan.stage != Stage.CHURNED:
        worker = plan.ism if onboarding and plan.ism else owner
        titles = ONBOARDING_TASKS if onboarding else TASK_TITLES
        if TRIO.get(owner) == index:
            for due in (today - timedelta(days=rng.randint(1, 6)), today, today + timedelta(days=rng.randint(2, 10))):
                created = max(start, min(today, due) - timedelta(days=rng.randint(1, 7)))
                plan.tasks.append(TaskPlan(_fill(rng.choice(titles), rng, plan), owner, due, created))
        elif rng.random() < 0.4:
            due = max(start, today + timedelta(days=rng.randint(-8, 20)))
            created = max(start, min(today, due) - timedelta(days=rng.randint(1, 7)))
            plan.tasks.append(TaskPlan(_fill(rng.choice(titles), rng, plan), worker, due, created))
        if not onboarding and rng.random() < 0.3:
            due = today - timedelta(days=rng.randint(10, 60))
            if due > start:
                done = min(today, due + timedelta(days=rng.randint(-2, 3)))
                created = max(start, min(due, done) - timedelta(days=rng.randint(1, 7)))
                plan.tasks.append(TaskPlan(_fill(rng.choice(titles), rng, plan), owner, due, created, done_on=done))

    # Renewal and tags.
    if plan.stage != Stage.CHURNED:
        renewal = plan.reactivated_on or start
        while renewal <= today:
            renewal = ledger.add_months(renewal, 12)
        plan.renewal = renewal
    if segment == Segment.ENTERPRISE and rng.random() < 0.5:
        plan.tags.append("estratégico")
    if rng.random() < 0.05:
        plan.tags.append("piloto")
    if scenario == "expansion" or (scenario == "ongoing" and rng.random() < 0.05):
        plan.tags.append("case de sucesso")
    if rng.random() < 0.05:
        plan.tags.append("indicação")
    return plan


# --- What the writers share ---------------------------------------------------------------------------------


@dataclass
class Context:
    """What writing a plan needs from the database: the demo people, churn reasons, tags and each service
    model's policy (as ``plan_customer`` reads it)."""

    today: date
    people: dict[str, User]
    reasons: dict[str, ChurnReason]
    tags: dict[str, Tag]
    policies: dict[str, tuple]


def label(choices, value) -> str:
    return str(choices(value).label)
