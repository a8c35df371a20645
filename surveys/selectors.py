"""Every read the survey pages and the API need. Each takes the acting user and starts from the door:

* customer surveys (NPS, CSAT, CES, CHI) are scoped through the customer they are about, with
  ``portfolio.selectors.customers_visible_to``: leaders see their team's, CSMs their portfolio's;
* eNPS is about the people of the team, so only admins (everyone) and leaders (the teams they oversee)
  read it, only aggregated, never next to who answered, and nothing at all under
  ``scoring.ENPS_MIN_ANSWERS`` answers.

Scores are computed in SQL as counts per score value (one grouped query per table, chart or slice) and
then by ``surveys.scoring`` in Python, so the number of queries does not grow with the answers.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import can_lead, scope_team_ids, visible_filter
from accounts.models import User
from portfolio.models import Contact, PlanTier, Segment, ServiceModel
from portfolio.selectors import customers_changeable_by, customers_visible_to, of_visible_customers
from surveys import scoring, tallies
from surveys.answers import loop_close_stats
from surveys.models import (
    AnswerTally,
    Campaign,
    ChiAssessment,
    Delivery,
    DeliveryStatus,
    DeliveryTally,
    Response,
    SkipReason,
    SurveyKind,
    TallyBuild,
)
from surveys.services import audience_contacts

ENPS = SurveyKind.ENPS
NPS_KINDS = {SurveyKind.NPS, SurveyKind.ENPS}


# --- Who may do what ------------------------------------------------------------------------------------


def can_read_enps(user: User) -> bool:
    """eNPS results are for admins and leaders only."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and (user.is_admin or user.is_leader))


def can_manage_campaigns(user: User) -> bool:
    """Admins and leaders create, start and close campaigns; everyone else reads the results."""
    return can_lead(user)


# --- The scoped querysets -------------------------------------------------------------------------------


def _employee_scope(user: User, *, delivery: str) -> Q:
    """eNPS rows the user may count, given the path from a row to its delivery ("" for a delivery itself):
    every one for admins; for leaders, those sent to the people of the teams they oversee, Leme users or
    people of the imported list, by the team they were in when surveyed; none otherwise. Someone in no team
    counts for admins only."""
    if not can_read_enps(user):
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    return Q(**{f"{delivery}team__in": scope_team_ids(user)})


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """Campaigns are the team's shared configuration; eNPS ones exist only for those who may read eNPS."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Campaign.objects.none()
    qs = Campaign.objects.all()
    if not can_read_enps(user):
        qs = qs.exclude(kind=ENPS)
    return qs


def csat_default_scale(user: User) -> int:
    """The scale the CSAT results open on: the latest CSAT campaign's (1–5 when there is none)."""
    latest = campaigns_visible_to(user).filter(kind=SurveyKind.CSAT).order_by("-created_at", "-pk").first()
    return latest.scale_top if latest else 5


# Each scope comes in two halves, customer surveys and eNPS. Counting code asks for the half it needs: one
# OR across both would make PostgreSQL test every row against both scopes, several times slower on a
# leader's hundreds of thousands of rows. Lists that mix kinds (the API) use the whole.


def _customer_responses(user: User) -> QuerySet[Response]:
    """Answers to customer surveys the user may count: a plain semi-join on the visible customers."""
    return of_visible_customers(Response, user)


def _enps_responses(user: User) -> QuerySet[Response]:
    return Response.objects.filter(Q(kind=ENPS) & _employee_scope(user, delivery="delivery__"))


def responses_visible_to(user: User) -> QuerySet[Response]:
    """Answers the user may count: customer surveys through the customer, eNPS through the team."""
    customer_surveys = Q(customer__in=customers_visible_to(user)) & ~Q(kind=ENPS)
    enps = Q(kind=ENPS) & _employee_scope(user, delivery="delivery__")
    return Response.objects.filter(customer_surveys | enps)


def _customer_deliveries(user: User) -> QuerySet[Delivery]:
    return of_visible_customers(Delivery, user)


def _enps_deliveries(user: User) -> QuerySet[Delivery]:
    # An eNPS delivery goes to a Leme user or to someone of the imported list; leaders count their teams'.
    people = Q(employee__isnull=False) | Q(recipient__isnull=False)
    return Delivery.objects.filter(Q(campaign__kind=ENPS) & people & _employee_scope(user, delivery=""))


def deliveries_visible_to(user: User) -> QuerySet[Delivery]:
    customer_surveys = Q(customer__in=customers_visible_to(user)) & ~Q(campaign__kind=ENPS)
    return Delivery.objects.filter(customer_surveys) | _enps_deliveries(user)


def _deliveries_of(user: User, kind: str) -> QuerySet[Delivery]:
    return _enps_deliveries(user) if kind == ENPS else _customer_deliveries(user)


def contacts_surveyable_by(user: User) -> QuerySet[Contact]:
    """Contacts the user may survey on demand: those of the customers they may change."""
    return Contact.objects.filter(customer__in=customers_changeable_by(user))


def _enps_open_campaigns(user: User) -> QuerySet:
    """eNPS campaigns with at least ENPS_MIN_ANSWERS answers the user may count."""
    return (
        _enps_responses(user)
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk"))
        .filter(n__gte=scoring.ENPS_MIN_ANSWERS)
        .values("campaign")
    )


def responses_for_api(user: User) -> QuerySet[Response]:
    """The answers the API lists: eNPS ones only to admins and leaders, and only from campaigns that reached
    the minimum number of answers (a lone answer would be as good as a name)."""
    qs = responses_visible_to(user).select_related("campaign", "delivery")
    if can_read_enps(user):
        qs = qs.filter(~Q(kind=ENPS) | Q(campaign__in=_enps_open_campaigns(user)))
    return qs.order_by("-answered_at", "-pk")


# --- Scores ----------------------------------------------------------------------------------------------


def scale_for(kind: str, scale_max: int | None = None) -> tuple[int, int]:
    """The lowest and highest answer of a kind (CSAT on 1–5 or 1–10)."""
    if kind == SurveyKind.CSAT:
        return 1, scale_max if scale_max in (5, 10) else 5
    if kind == SurveyKind.CES:
        return 1, 7
    return 0, 10


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    low: int
    high: int
    colour: str


def bands_for(kind: str, scale_top: int) -> list[Band]:
    """How answers are grouped for colours and for the comments filter. The negative band is the one that
    asks for a follow-up (``scoring.DETRACTOR_MAX``), so a filtered list matches the detractor tasks."""
    if kind in NPS_KINDS:
        return [
            Band("detractor", _("Detractors"), 0, 6, "red"),
            Band("passive", _("Passives"), 7, 8, "yellow"),
            Band("promoter", _("Promoters"), 9, 10, "green"),
        ]
    if kind == SurveyKind.CSAT:
        low = scoring.DETRACTOR_MAX["csat"]
        return [
            Band("detractor", _("Unsatisfied"), 1, low, "red"),
            Band("passive", _("Neutral"), low + 1, scale_top - 2, "yellow"),
            Band("promoter", _("Satisfied"), scale_top - 1, scale_top, "green"),
        ]
    if kind == SurveyKind.CES:
        return [
            Band("detractor", _("Hard"), 1, scoring.DETRACTOR_MAX["ces"], "red"),
            Band("passive", _("Neutral"), 4, 4, "yellow"),
            Band("promoter", _("Easy"), 5, 7, "green"),
        ]
    return [
        Band("detractor", _("0–4 criteria"), 0, 4, "red"),
        Band("passive", _("5–7 criteria"), 5, 7, "yellow"),
        Band("promoter", _("8–10 criteria"), 8, 10, "green"),
    ]


def _band_of(bands: list[Band], score: int) -> Band | None:
    return next((b for b in bands if b.low <= score <= b.high), None)


@dataclass(frozen=True)
class Summary:
    """One set of answers, scored as its kind is. ``score`` is the headline: the NPS, CSAT's % satisfied,
    CES's and CHI's average. ``hidden`` is an eNPS under the minimum: nothing is shown."""

    kind: str
    count: int
    score: Decimal | None = None
    average: Decimal | None = None
    share: Decimal | None = None
    nps: scoring.NpsResult | None = None
    hidden: bool = False

    @property
    def zone(self) -> str | None:
        return self.nps.zone if self.nps is not None else None

    @property
    def zone_label(self) -> str:
        return scoring.ZONE_LABELS.get(self.zone, "") if self.zone else ""

    @property
    def is_percent(self) -> bool:
        return self.kind == SurveyKind.CSAT


def summarise(kind: str, counts: dict[int, int], *, scale_top: int = 10) -> Summary:
    """Score answers given as {score: how many}."""
    total = sum(counts.values())
    if kind == ENPS and total < scoring.ENPS_MIN_ANSWERS:
        return Summary(kind=kind, count=total, hidden=True)
    if kind in NPS_KINDS:
        result = scoring.nps(counts)
        return Summary(kind=kind, count=total, score=result.score, nps=result)
    if kind == SurveyKind.CSAT:
        result = scoring.csat(counts, scale_max=scale_top)
        return Summary(kind=kind, count=total, score=result.share, average=result.average, share=result.share)
    if kind == SurveyKind.CES:
        result = scoring.ces(counts)
        return Summary(kind=kind, count=total, score=result.average, average=result.average, share=result.share)
    result = scoring.chi(counts)
    return Summary(kind=kind, count=total, score=result.average, average=result.average)


def _counts_by(qs: QuerySet[Response], *keys: str) -> dict[tuple, dict[int, int]]:
    """{(key values…): {score: n}} in one grouped query."""
    grouped: dict[tuple, dict[int, int]] = defaultdict(dict)
    for row in qs.order_by().values(*keys, "score").annotate(n=Count("pk")):
        grouped[tuple(row[k] for k in keys)][row["score"]] = row["n"]
    return grouped


def enps_hidden(user: User, *, campaign: Campaign | None = None, since: datetime | None = None) -> bool:
    """Whether eNPS answers in this scope are under the minimum, so nothing about them may be shown."""
    qs = _enps_responses(user)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if since is not None:
        qs = qs.filter(answered_at__gte=since)
    return qs.count() < scoring.ENPS_MIN_ANSWERS


# --- Results of a campaign, or of every campaign of a kind ---------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which answers a results page is about: one campaign, or every campaign of a kind since a date (CSAT
    campaigns of one scale, since a 1–5 and a 1–10 answer cannot be added up)."""

    kind: str
    campaign: Campaign | None = None
    since: datetime | None = None
    scale_top: int = 10

    @classmethod
    def of_campaign(cls, campaign: Campaign) -> "Scope":
        return cls(kind=campaign.kind, campaign=campaign, scale_top=campaign.scale_top)

    @classmethod
    def of_kind(cls, kind: str, *, since: datetime | None = None, scale: int | None = None) -> "Scope":
        return cls(kind=kind, since=since, scale_top=scale_for(kind, scale)[1])

    @property
    def scale_min(self) -> int:
        return scale_for(self.kind, self.scale_top)[0]

    def narrow(self, qs: QuerySet, *, since: str, since_value=None) -> QuerySet:
        """Rows of ``qs`` (answers, deliveries or tallies, all with a ``campaign``) in this scope; ``since`` is
        the lookup the period applies to (``since_value`` when it is not the moment itself)."""
        if self.campaign is not None:
            return qs.filter(campaign=self.campaign)
        qs = qs.filter(campaign__kind=self.kind)
        if self.kind == SurveyKind.CSAT:
            qs = qs.filter(campaign__scale_max=self.scale_top)
        if self.since is not None:
            qs = qs.filter(**{since: self.since if since_value is None else since_value})
        return qs

    def responses(self, user: User) -> QuerySet[Response]:
        qs = _enps_responses(user) if self.kind == ENPS else _customer_responses(user)
        return self.narrow(qs, since="answered_at__gte")

    def deliveries(self, user: User) -> QuerySet[Delivery]:
        return self.narrow(_deliveries_of(user, self.kind), since="sent_at__gte")


@dataclass(frozen=True)
class Bar:
    score: int
    count: int
    pct: Decimal | None
    width: int  # % of the tallest bar
    colour: str


@dataclass(frozen=True)
class Month:
    month: date
    summary: Summary

    @property
    def column(self) -> tuple[int, int]:
        """The bar of a column chart as (bottom, height) in % of its height."""
        return _extent(self.summary)

    @property
    def bottom(self) -> int:
        return self.column[0]

    @property
    def height(self) -> int:
        return self.column[1]


@dataclass(frozen=True)
class SliceRow:
    key: object
    label: str
    summary: Summary
    sent: int
    answered: int

    @property
    def rate(self) -> Decimal | None:
        return scoring.pct(self.answered, self.sent)

    @property
    def bar(self) -> tuple[int, int]:
        """A horizontal bar as (left, width) in %."""
        return _extent(self.summary)

    @property
    def bar_left(self) -> int:
        return self.bar[0]

    @property
    def bar_width(self) -> int:
        return self.bar[1]


@dataclass(frozen=True)
class Slice:
    key: str
    title: str
    rows: list[SliceRow]


@dataclass(frozen=True)
class LoopStats:
    """Closing the loop on detractors: how many answered, how many were followed up, and how fast."""

    detractors: int
    closed: int
    avg_hours: Decimal | None

    @property
    def open(self) -> int:
        return self.detractors - self.closed

    @property
    def closed_rate(self) -> Decimal | None:
        return scoring.pct(self.closed, self.detractors)


@dataclass
class Results:
    scope: Scope
    summary: Summary
    sent: int
    answered: int  # answers to the surveys sent (the response rate's numerator)
    bands: list[Band]
    distribution: list[Bar] = field(default_factory=list)
    band_counts: list[tuple[Band, int, Decimal | None]] = field(default_factory=list)
    trend: list[Month] = field(default_factory=list)
    slices: list[Slice] = field(default_factory=list)
    loop: LoopStats | None = None
    as_of: datetime | None = None  # counted from the tallies built then; None: counted live

    @property
    def kind(self) -> str:
        return self.scope.kind

    @property
    def rate(self) -> Decimal | None:
        """Answered ÷ sent; undefined when nothing was sent."""
        return scoring.pct(self.answered, self.sent)

    @property
    def marker(self) -> int:
        return _track(self.summary)


def _track(summary: Summary) -> int:
    if summary.score is None:
        return 0
    if summary.kind in NPS_KINDS:
        value = (summary.score + 100) / 2
    elif summary.kind == SurveyKind.CSAT:
        value = summary.score
    elif summary.kind == SurveyKind.CES:
        value = (summary.score - 1) * 100 / 6
    else:
        value = summary.score * 10
    return max(0, min(100, int(value)))


def _extent(summary) -> tuple[int, int]:
    """Where a score's bar starts and how long it is, in % of the track: NPS grows either way from a zero
    line in the middle; the other kinds grow from the start."""
    if summary.score is None:
        return 0, 0
    if summary.kind in NPS_KINDS:
        half = min(50, round(abs(summary.score) / 2))
        return (50, half) if summary.score >= 0 else (50 - half, half)
    return 0, _track(summary)


def _sent_and_answered(qs: QuerySet[Delivery], *keys: str) -> dict[tuple, tuple[int, int]]:
    """{(key values…): (sent, answered)} in one query; the answered count only counts surveys that were sent."""
    counts = {
        "sent": Count("pk", filter=Q(sent_at__isnull=False)),
        "answered": Count("pk", filter=Q(sent_at__isnull=False, response__isnull=False)),
    }
    if not keys:
        row = qs.order_by().aggregate(**counts)
        return {(): (row["sent"], row["answered"])}
    rows = qs.order_by().values(*keys).annotate(**counts)
    return {tuple(row[k] for k in keys): (row["sent"], row["answered"]) for row in rows}


SLICES = [
    ("csm", _("By CSM"), "customer__owner_id", "customer__owner__full_name", None),
    ("segment", _("By segment"), "customer__segment", None, Segment),
    ("service_model", _("By service model"), "customer__service_model", None, ServiceModel),
    ("plan", _("By plan"), "customer__plan_tier", None, PlanTier),
]


SLICE_KEYS = (
    "customer__owner_id",
    "customer__owner__full_name",
    "customer__segment",
    "customer__service_model",
    "customer__plan_tier",
)


def _roll_up(grouped: dict[tuple, dict], keys: tuple[str, ...], add) -> dict[tuple, object]:
    """Sum rows grouped by every slice key into the groups of ``keys`` alone."""
    positions = [SLICE_KEYS.index(k) for k in keys]
    out: dict[tuple, object] = {}
    for group, value in grouped.items():
        narrow = tuple(group[i] for i in positions)
        out[narrow] = add(out.get(narrow), value)
    return out


def _add_counts(total: dict[int, int] | None, counts: dict[int, int]) -> dict[int, int]:
    total = dict(total or {})
    for score, n in counts.items():
        total[score] = total.get(score, 0) + n
    return total


def _add_pairs(total: tuple[int, int] | None, pair: tuple[int, int]) -> tuple[int, int]:
    return pair if total is None else (total[0] + pair[0], total[1] + pair[1])


def _slices(
    scope: Scope,
    all_counts: dict[tuple, dict[int, int]] | None,
    all_sent: dict[tuple, tuple[int, int]],
    chi: list["ChiScore"] | None = None,
) -> list[Slice]:
    """Each slice rolled up in Python from the rows grouped by every slice key at once (see survey_results)."""
    slices = []
    for key, title, path, name_path, choices in SLICES:
        keys = (path, name_path) if name_path else (path,)
        counts = _chi_counts_by(chi, *keys) if chi is not None else _roll_up(all_counts, keys, _add_counts)
        sent = _roll_up(all_sent, keys, _add_pairs)
        rows = []
        for group in set(counts) | set(sent):
            value = group[0]
            if name_path:
                label = group[1] or _("No CSM")
            else:
                label = choices(value).label if value in choices.values else (value or "—")
            summary = summarise(scope.kind, counts.get(group, {}), scale_top=scope.scale_top)
            group_sent, group_answered = sent.get(group, (0, 0))
            rows.append(
                SliceRow(key=value, label=str(label), summary=summary, sent=group_sent, answered=group_answered)
            )
        rows.sort(key=lambda r: (-r.summary.count, r.label))
        slices.append(Slice(key=key, title=str(title), rows=rows))
    return slices


def _chi_months(chi: list["ChiScore"]) -> dict[date, dict[int, int]]:
    """CHI counts each customer's combined score in the month of its latest part."""
    tz = timezone.get_current_timezone()
    by_month: dict[date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in chi:
        by_month[timezone.localtime(row.answered_at, tz).date().replace(day=1)][row.score] += 1
    return by_month


def _trend(scope: Scope, by_month: dict[date, dict[int, int]], *, months: int) -> list[Month]:
    """The score month by month (the months the answers came in), up to this month while the campaign runs."""
    if not by_month:
        return []
    first, last = min(by_month), max(by_month)
    if scope.campaign is None or scope.campaign.closed_at is None:
        last = max(last, timezone.localdate().replace(day=1))
    out, month = [], last
    while len(out) < months:
        out.append(
            Month(month=month, summary=summarise(scope.kind, by_month.get(month, {}), scale_top=scope.scale_top))
        )
        if month <= first:
            break
        month = (month - timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def _loop_stats(responses: QuerySet[Response], kind: str) -> LoopStats | None:
    """Detractors and how fast their loop was closed, as ``surveys.answers.loop_close_stats`` defines it. eNPS
    has none: nobody may know whom to call back."""
    if kind == ENPS or kind not in scoring.DETRACTOR_MAX:
        return None
    stats = loop_close_stats(responses.filter(score__lte=scoring.DETRACTOR_MAX[kind]))
    avg_hours = stats["avg_hours"]
    return LoopStats(
        detractors=stats["count_closed"] + stats["count_open"],
        closed=stats["count_closed"],
        avg_hours=None if avg_hours is None else Decimal(str(avg_hours)),
    )


class _LiveCounts:
    """The counts of a scope read from the answers and deliveries themselves."""

    as_of = None

    def __init__(self, user: User, scope: Scope) -> None:
        self.responses = scope.responses(user)
        self.deliveries = scope.deliveries(user)

    def scores(self, *keys: str) -> dict[tuple, dict[int, int]]:
        return _counts_by(self.responses, *keys)

    def sent(self, *keys: str) -> dict[tuple, tuple[int, int]]:
        return _sent_and_answered(self.deliveries, *keys)

    def months(self) -> dict[date, dict[int, int]]:
        tz = timezone.get_current_timezone()
        counts = _counts_by(self.responses.annotate(month=TruncMonth("answered_at", tzinfo=tz)), "month")
        return {(timezone.localtime(m, tz).date() if isinstance(m, datetime) else m): c for (m,), c in counts.items()}


# The tallies' names for the slice keys (see surveys.tallies): the customer's fields, one level up.
_TALLY_FIELDS = {key: key.removeprefix("customer__") for key in SLICE_KEYS} | {"campaign_id": "campaign_id"}


class _TallyCounts:
    """The same counts read from the tallies, scoped by the same door (see surveys.tallies)."""

    def __init__(self, user: User, scope: Scope, build: TallyBuild) -> None:
        self.as_of = build.built_at
        visible = visible_filter(user, people=tallies.PEOPLE)
        month = timezone.localtime(scope.since).date() if scope.since is not None else None
        self.answers = scope.narrow(AnswerTally.objects.filter(visible), since="month__gte", since_value=month)
        self.deliveries = scope.narrow(DeliveryTally.objects.filter(visible), since="month__gte", since_value=month)

    def scores(self, *keys: str) -> dict[tuple, dict[int, int]]:
        fields = [_TALLY_FIELDS.get(k, k) for k in keys]
        grouped: dict[tuple, dict[int, int]] = defaultdict(dict)
        for row in self.answers.order_by().values(*fields, "score").annotate(n=Sum("answers")):
            grouped[tuple(row[f] for f in fields)][row["score"]] = row["n"]
        return grouped

    def sent(self, *keys: str) -> dict[tuple, tuple[int, int]]:
        fields = [_TALLY_FIELDS.get(k, k) for k in keys]
        sums = {"sent_n": Sum("sent"), "answered_n": Sum("answered")}
        if not fields:
            row = self.deliveries.order_by().aggregate(**sums)
            return {(): (row["sent_n"] or 0, row["answered_n"] or 0)}
        rows = self.deliveries.order_by().values(*fields).annotate(**sums)
        return {tuple(row[f] for f in fields): (row["sent_n"], row["answered_n"]) for row in rows}

    def months(self) -> dict[date, dict[int, int]]:
        return {month: counts for (month,), counts in self.scores("month").items()}


def _at_month_start(moment: datetime | None) -> bool:
    """Whether a period starts on a month (the tallies count by month), or there is no period."""
    local = timezone.localtime(moment) if moment is not None else None
    return local is None or (local.day == 1 and local.time() == datetime.min.time())


def _tally_build_for(user: User) -> TallyBuild | None:
    """A fresh tally build when the user sees enough customers for live counts to be slow, else None. The
    count of visible customers is kept on the user object for the rest of the request."""
    threshold = settings.LEME_SURVEY_TALLIES_FROM
    build = tallies.fresh_build() if threshold >= 0 else None
    if build is None:
        return None
    if not hasattr(user, "_leme_visible_customers"):
        user._leme_visible_customers = customers_visible_to(user).count()
    return build if user._leme_visible_customers >= threshold else None


def _counts_for(user: User, scope: Scope) -> _LiveCounts | _TallyCounts:
    if scope.kind in tallies.KINDS and _at_month_start(scope.since):
        build = _tally_build_for(user)
        if build is not None:
            return _TallyCounts(user, scope, build)
    return _LiveCounts(user, scope)


def survey_results(user: User, scope: Scope, *, detail: bool = True, months: int = 12) -> Results:
    """The results of a campaign or of a kind, as ``user`` may see them. Without ``detail`` only the score and
    the counts (the API's results endpoint and the campaign list)."""
    source = _counts_for(user, scope)
    # CHI is scored per customer: their answer plus the CSM's (see chi_scores), not per answer; the tallies
    # hold those scores already.
    live_chi = scope.kind == SurveyKind.CHI and isinstance(source, _LiveCounts)
    chi = chi_scores(user, scope, keys=SLICE_PATHS if detail else ()) if live_chi else None
    sliced = detail and scope.kind != ENPS
    if sliced:
        # Answers and deliveries grouped by every slice key at once, one scan each: the totals and every
        # slice are rolled up from them in Python, since each scan of a leader's hundreds of thousands of
        # rows costs the same whatever it is grouped by.
        all_counts = source.scores(*SLICE_KEYS) if chi is None else None
        all_sent = source.sent(*SLICE_KEYS)
        total = _roll_up(all_counts, (), _add_counts).get((), {}) if chi is None else None
        sent, answered = _roll_up(all_sent, (), _add_pairs).get((), (0, 0))
    else:
        total = source.scores().get((), {}) if chi is None else None
        sent, answered = source.sent().get((), (0, 0))
    counts = _chi_counts_by(chi).get((), {}) if chi is not None else total
    summary = summarise(scope.kind, counts, scale_top=scope.scale_top)
    bands = bands_for(scope.kind, scope.scale_top)
    results = Results(scope=scope, summary=summary, sent=sent, answered=answered, bands=bands, as_of=source.as_of)
    if not detail or summary.hidden:
        return results
    tallest = max(counts.values(), default=0)
    for score in range(scope.scale_min, scope.scale_top + 1):
        n = counts.get(score, 0)
        band = _band_of(bands, score)
        results.distribution.append(
            Bar(
                score=score,
                count=n,
                pct=scoring.pct(n, summary.count),
                width=round(100 * n / tallest) if tallest else 0,
                colour=band.colour if band else "",
            )
        )
    for band in bands:
        n = sum(c for s, c in counts.items() if band.low <= s <= band.high)
        results.band_counts.append((band, n, scoring.pct(n, summary.count)))
    results.trend = _trend(scope, _chi_months(chi) if chi is not None else source.months(), months=months)
    if sliced:
        results.slices = _slices(scope, all_counts, all_sent, chi=chi)
    results.loop = _loop_stats(scope.responses(user), scope.kind)
    return results


# --- CHI: the customer's part plus the CSM's part ---------------------------------------------------------

SLICE_PATHS = tuple(p for _key, _title, path, name_path, _c in SLICES for p in (path, name_path) if p)


@dataclass(frozen=True)
class ChiScore:
    """A customer's Customer Happiness Index in a campaign: the "yes" of their latest answer to the customer's
    criteria plus the "yes" of the CSM's assessment of the CSM's criteria (0–10). A part not given yet counts 0
    (``customer_part`` / ``csm_part`` is None). ``answered_at`` is when the latest part was given; ``keys``
    holds the values of the paths asked for (for the slices)."""

    campaign_id: int
    customer_id: int
    customer_part: int | None
    csm_part: int | None
    answered_at: datetime
    keys: dict = field(default_factory=dict, compare=False)

    @property
    def score(self) -> int:
        return (self.customer_part or 0) + (self.csm_part or 0)

    @property
    def complete(self) -> bool:
        return self.customer_part is not None and self.csm_part is not None


def chi_assessments_visible_to(user: User) -> QuerySet[ChiAssessment]:
    """The CSM's CHI assessments of the customers the user sees."""
    return of_visible_customers(ChiAssessment, user)


def chi_scores(
    user: User,
    scope: Scope | None = None,
    *,
    campaign_ids: list[int] | None = None,
    keys: tuple[str, ...] = (),
) -> list[ChiScore]:
    """Every customer's combined CHI score in a scope (or in the given campaigns), as the user sees them: one
    per (campaign, customer) with a customer's answer or a CSM's assessment. Two queries whatever the size;
    when several of a customer's contacts answered, the latest answer is the customer's part."""
    responses = _customer_responses(user).filter(kind=SurveyKind.CHI)
    assessments = chi_assessments_visible_to(user).filter(campaign__kind=SurveyKind.CHI)
    if scope is not None and scope.campaign is not None:
        responses = responses.filter(campaign=scope.campaign)
        assessments = assessments.filter(campaign=scope.campaign)
    if campaign_ids is not None:
        responses = responses.filter(campaign_id__in=campaign_ids)
        assessments = assessments.filter(campaign_id__in=campaign_ids)
    scores = combine_chi(responses, assessments, keys=keys)
    if scope is not None and scope.since is not None:
        # Over a period: the customers whose score was completed or changed in it, with their whole score
        # (a part given before the period still counts: half a score would read as an unhappy customer).
        scores = [chi for chi in scores if chi.answered_at >= scope.since]
    return scores


def combine_chi(
    responses: QuerySet[Response], assessments: QuerySet[ChiAssessment], *, keys: tuple[str, ...] = ()
) -> list[ChiScore]:
    """One ChiScore per (campaign, customer) from the given customer answers and CSM assessments, in two
    queries; when several of a customer's contacts answered, the latest answer is the customer's part."""
    base = ("campaign_id", "customer_id", "score")
    latest: dict[tuple[int, int], dict] = {}
    for row in responses.order_by("-updated_at", "-pk").values(*base, "updated_at", *keys):
        latest.setdefault((row["campaign_id"], row["customer_id"]), row)
    parts: dict[tuple[int, int], dict] = {
        (row["campaign_id"], row["customer_id"]): row for row in assessments.values(*base, "updated_at", *keys)
    }
    scores = []
    for pair in latest.keys() | parts.keys():
        answer, assessment = latest.get(pair), parts.get(pair)
        given = [r for r in (answer, assessment) if r is not None]
        scores.append(
            ChiScore(
                campaign_id=pair[0],
                customer_id=pair[1],
                customer_part=answer["score"] if answer else None,
                csm_part=assessment["score"] if assessment else None,
                answered_at=max(r["updated_at"] for r in given),
                keys={k: given[0][k] for k in keys},
            )
        )
    return scores


def _chi_counts_by(chi: list[ChiScore], *keys: str) -> dict[tuple, dict[int, int]]:
    """Like ``_counts_by``, for combined CHI scores: {(key values…): {score: n customers}}."""
    grouped: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in chi:
        group = tuple(row.campaign_id if k == "campaign_id" else row.keys[k] for k in keys)
        grouped[group][row.score] += 1
    return {k: dict(v) for k, v in grouped.items()}


@dataclass(frozen=True)
class ChiCustomerRow:
    """A customer on the CSM's CHI page: both parts of their score."""

    customer: object
    customer_part: int | None
    csm_part: int | None

    @property
    def score(self) -> int:
        return (self.customer_part or 0) + (self.csm_part or 0)


def chi_audience_customers(user: User, campaign: Campaign) -> QuerySet:
    """The customers of a CHI campaign's audience that the user may change (and so assess), by name."""
    in_audience = audience_contacts(campaign).values("customer_id")
    return customers_changeable_by(user).filter(pk__in=in_audience).select_related("owner").order_by("name", "pk")


def chi_customer_rows(user: User, campaign: Campaign) -> list[ChiCustomerRow]:
    """The CSM's CHI page: every customer of the campaign's audience the user may change, with the customer's
    part and the CSM's part of their score. Three queries whatever the size."""
    customers = list(chi_audience_customers(user, campaign))
    scores = {row.customer_id: row for row in chi_scores(user, Scope.of_campaign(campaign))}
    rows = []
    for customer in customers:
        found = scores.get(customer.pk)
        rows.append(
            ChiCustomerRow(
                customer=customer,
                customer_part=found.customer_part if found else None,
                csm_part=found.csm_part if found else None,
            )
        )
    return rows


def chi_assessment_of(user: User, campaign: Campaign, customer) -> ChiAssessment | None:
    return chi_assessments_visible_to(user).filter(campaign=campaign, customer=customer).first()


def chi_customer_part(user: User, campaign: Campaign, customer) -> Response | None:
    """The customer's latest answer to a CHI campaign (their part of the score), if they answered."""
    return (
        _customer_responses(user)
        .filter(campaign=campaign, customer=customer)
        .select_related("delivery__contact")
        .order_by("-updated_at", "-pk")
        .first()
    )


# --- Campaigns -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    planned: int
    sent: int
    answered: int
    summary: Summary

    @property
    def rate(self) -> Decimal | None:
        return scoring.pct(self.answered, self.sent)


def _delivery_counts_by_campaign(deliveries: QuerySet[Delivery]) -> dict[int, dict]:
    rows = (
        deliveries.order_by()
        .values("campaign_id")
        .annotate(
            planned=Count("pk"),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            answered=Count("pk", filter=Q(sent_at__isnull=False, response__isnull=False)),
        )
    )
    return {row["campaign_id"]: row for row in rows}


def _tallied_by_campaign(user: User, ids: list[int]) -> dict[int, dict]:
    rows = (
        DeliveryTally.objects.filter(visible_filter(user, people=tallies.PEOPLE), campaign_id__in=ids)
        .order_by()
        .values("campaign_id")
        .annotate(planned=Sum("planned"), sent=Sum("sent"), answered=Sum("answered"))
    )
    return {row["campaign_id"]: row for row in rows}


def campaign_list(user: User, *, kind: str = "", status: str = "") -> list[CampaignRow]:
    """Campaigns with their counts and score, as far as the user sees them: a few queries whatever the size
    (three, two more with eNPS campaigns, one more with CHI ones), from the tallies for large scopes."""
    campaigns = campaigns_visible_to(user)
    if kind:
        campaigns = campaigns.filter(kind=kind)
    if status:
        campaigns = campaigns.filter(status=status)
    campaigns = list(campaigns.order_by("-created_at", "-pk"))
    customer_ids = [c.pk for c in campaigns if c.kind in tallies.KINDS]  # every kind but eNPS
    enps_ids = [c.pk for c in campaigns if c.kind == ENPS]
    chi_ids = [c.pk for c in campaigns if c.kind == SurveyKind.CHI]
    build = _tally_build_for(user) if customer_ids else None
    if build is None:
        by_campaign = _delivery_counts_by_campaign(_customer_deliveries(user).filter(campaign_id__in=customer_ids))
        counts = _counts_by(
            _customer_responses(user).filter(campaign_id__in=[pk for pk in customer_ids if pk not in chi_ids]),
            "campaign_id",
        )
        if chi_ids:
            counts.update(_chi_counts_by(chi_scores(user, campaign_ids=chi_ids), "campaign_id"))
    else:
        by_campaign = _tallied_by_campaign(user, customer_ids)
        visible = visible_filter(user, people=tallies.PEOPLE)
        counts = defaultdict(dict)
        for row in (
            AnswerTally.objects.filter(visible, campaign_id__in=customer_ids)
            .order_by()
            .values("campaign_id", "score")
            .annotate(n=Sum("answers"))
        ):
            counts[(row["campaign_id"],)][row["score"]] = row["n"]
    if enps_ids:
        by_campaign.update(_delivery_counts_by_campaign(_enps_deliveries(user).filter(campaign_id__in=enps_ids)))
        counts.update(_counts_by(_enps_responses(user).filter(campaign_id__in=enps_ids), "campaign_id"))
    rows = []
    for campaign in campaigns:
        row = by_campaign.get(campaign.pk, {"planned": 0, "sent": 0, "answered": 0})
        rows.append(
            CampaignRow(
                campaign=campaign,
                planned=row["planned"],
                sent=row["sent"],
                answered=row["answered"],
                summary=summarise(campaign.kind, counts.get((campaign.pk,), {}), scale_top=campaign.scale_top),
            )
        )
    return rows


@dataclass(frozen=True)
class DeliveryCounts:
    planned: int
    pending: int
    sent: int
    failed: int
    bounced: int
    skipped: int
    answered: int
    skipped_by_reason: list[tuple[str, str, int]]

    @property
    def rate(self) -> Decimal | None:
        return scoring.pct(self.answered, self.sent)


def delivery_counts(user: User, campaign: Campaign) -> DeliveryCounts:
    """Where each survey of a campaign went, in one query."""
    reasons = {
        f"skip_{reason}": Count("pk", filter=Q(status=DeliveryStatus.SKIPPED, skip_reason=reason))
        for reason in SkipReason.values
    }
    deliveries = _deliveries_of(user, campaign.kind)
    row = (
        deliveries.filter(campaign=campaign)
        .order_by()
        .aggregate(
            planned=Count("pk"),
            pending=Count("pk", filter=Q(status=DeliveryStatus.PENDING)),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
            bounced=Count("pk", filter=Q(status=DeliveryStatus.BOUNCED)),
            skipped=Count("pk", filter=Q(status=DeliveryStatus.SKIPPED)),
            answered=Count("pk", filter=Q(sent_at__isnull=False, response__isnull=False)),
            **reasons,
        )
    )
    return DeliveryCounts(
        planned=row["planned"],
        pending=row["pending"],
        sent=row["sent"],
        failed=row["failed"],
        bounced=row["bounced"],
        skipped=row["skipped"],
        answered=row["answered"],
        skipped_by_reason=[(r, SkipReason(r).label, row[f"skip_{r}"]) for r in SkipReason.values],
    )


def skipped_deliveries(user: User, campaign: Campaign, *, limit: int = 50) -> list[Delivery]:
    """Who was not surveyed and why. Never for eNPS: the list would name employees beside the survey."""
    if campaign.kind == ENPS:
        return []
    return list(
        _customer_deliveries(user)
        .filter(campaign=campaign, status=DeliveryStatus.SKIPPED)
        .select_related("contact", "customer")
        .order_by("skip_reason", "pk")[:limit]
    )


# --- Comments --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentFilters:
    band: str = ""
    segment: str = ""
    owner: int | None = None


@dataclass(frozen=True)
class Comment:
    """An answer's "why". For eNPS only the score, the text and the month: nothing that names anyone."""

    pk: int
    score: int
    text: str
    answered_at: datetime
    colour: str
    campaign_name: str = ""
    customer_id: int | None = None
    customer_name: str = ""
    contact_name: str = ""
    owner_name: str = ""
    anonymous: bool = False


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]
    page: int
    has_next: bool
    hidden: bool = False


def comments(user: User, scope: Scope, filters: CommentFilters, *, page: int = 1, per_page: int = 20) -> CommentPage:
    """Answers with a comment, newest first, filtered by score band, segment and CSM. A page is one query
    (one row more than shown tells whether there is a next page)."""
    if scope.kind == ENPS and enps_hidden(user, campaign=scope.campaign, since=scope.since):
        return CommentPage(comments=[], page=1, has_next=False, hidden=True)
    bands = bands_for(scope.kind, scope.scale_top)
    qs = scope.responses(user).exclude(comment="")
    band = next((b for b in bands if b.key == filters.band), None)
    if band is not None:
        qs = qs.filter(score__gte=band.low, score__lte=band.high)
    page = max(page, 1)
    start = (page - 1) * per_page
    if scope.kind == ENPS:
        rows = list(
            qs.order_by("-answered_at", "-pk").values("pk", "score", "comment", "answered_at")[
                start : start + per_page + 1
            ]
        )
        items = [
            Comment(
                pk=r["pk"],
                score=r["score"],
                text=r["comment"],
                answered_at=r["answered_at"],
                colour=_colour(bands, r["score"]),
                anonymous=True,
            )
            for r in rows
        ]
    else:
        if filters.segment:
            qs = qs.filter(customer__segment=filters.segment)
        if filters.owner:
            qs = qs.filter(customer__owner_id=filters.owner)
        found = list(
            qs.select_related("campaign", "customer__owner", "delivery__contact").order_by("-answered_at", "-pk")[
                start : start + per_page + 1
            ]
        )
        items = [
            Comment(
                pk=r.pk,
                score=r.score,
                text=r.comment,
                answered_at=r.answered_at,
                colour=_colour(bands, r.score),
                campaign_name=r.campaign.name,
                customer_id=r.customer_id,
                customer_name=r.customer.name if r.customer else "",
                contact_name=r.delivery.contact.name if r.delivery.contact else "",
                owner_name=r.customer.owner.full_name if r.customer and r.customer.owner else "",
            )
            for r in found
        ]
    return CommentPage(comments=items[:per_page], page=page, has_next=len(items) > per_page)


def _colour(bands: list[Band], score: int) -> str:
    band = _band_of(bands, score)
    return band.colour if band else ""


def comment_owners(user: User, scope: Scope, results: Results | None = None) -> list[tuple[int, str]]:
    """The CSMs whose customers answered, (id, name) by name, for the comments filter: read off the results'
    "by CSM" slice when the page has it, else one query."""
    csm_slice = next((s for s in results.slices if s.key == "csm"), None) if results is not None else None
    if csm_slice is not None:
        owners = [(row.key, row.label) for row in csm_slice.rows if row.key is not None and row.summary.count]
        return sorted(owners, key=lambda owner: owner[1])
    owner_ids = scope.responses(user).exclude(customer__owner__isnull=True).values("customer__owner_id")
    return list(User.objects.filter(pk__in=owner_ids).order_by("full_name").values_list("pk", "full_name"))


# --- CSV export ------------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "answered_at",
    "campaign",
    "kind",
    "score",
    "comment",
    "customer",
    "customer_external_id",
    "contact",
    "contact_email",
    "csm",
    "segment",
    "service_model",
    "plan",
]
ENPS_CSV_COLUMNS = ["answered_month", "campaign", "score", "comment"]


def export_rows(user: User, scope: Scope) -> Iterator[list]:
    """The answers as CSV rows, header first, streamed in chunks. eNPS rows carry no identifying column, only
    the month, and are ordered by score so that their order tells nothing either; nothing under the minimum."""
    if scope.kind == ENPS:
        yield ENPS_CSV_COLUMNS
        if enps_hidden(user, campaign=scope.campaign, since=scope.since):
            return
        rows = (
            scope.responses(user)
            .order_by("score", "comment", "pk")
            .values_list("answered_at", "campaign__name", "score", "comment")
        )
        for answered_at, campaign_name, score, comment in rows.iterator(chunk_size=2000):
            yield [timezone.localtime(answered_at).strftime("%Y-%m"), campaign_name, score, comment]
        return
    yield CSV_COLUMNS
    rows = (
        scope.responses(user)
        .order_by("answered_at", "pk")
        .values_list(
            "answered_at",
            "campaign__name",
            "kind",
            "score",
            "comment",
            "customer__name",
            "customer__external_id",
            "delivery__contact__name",
            "delivery__email",
            "customer__owner__full_name",
            "customer__segment",
            "customer__service_model",
            "customer__plan_tier",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        yield [timezone.localtime(row[0]).isoformat(timespec="seconds"), *("" if v is None else v for v in row[1:])]
