"""The results of a campaign or of a kind, as a user may see them: the score, the response rate, the
distribution, the bands, the month-by-month trend, the slices (by CSM, segment, service model, plan) and
how fast detractors were followed up.

Scores are computed in SQL as counts per score value (one grouped query per table, chart or slice) and then
by ``surveys.scoring`` in Python, so the number of queries does not grow with the answers. The counts come
from the answers and deliveries themselves (``_LiveCounts``), or, for users who see many customers, from the
tallies rolled up ahead of time (``_TallyCounts``, see ``surveys.tallies``); both are scoped by the same door
and give the same results.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import visible_filter
from accounts.models import User
from portfolio.models import PlanTier, Segment, ServiceModel
from portfolio.selectors import customers_visible_to
from surveys import charts, scoring, tallies
from surveys.charts import Bar, Month, Slice, SliceRow
from surveys.models import AnswerTally, Delivery, DeliveryTally, Response, SurveyKind, TallyBuild
from surveys.scoring import ENPS, Band, Summary, bands_for, summarise
from surveys.selectors import Scope
from surveys.selectors_chi import ChiScore, chi_counts_by, chi_scores

# --- Closing the loop on detractors -----------------------------------------------------------------------


def loop_close_stats(responses_qs: QuerySet[Response]) -> dict:
    """Closing the loop on detractors, over a set of answers: how many loops were closed, the average hours
    from answer to the closing touch (None when none was closed), and how many detractors still wait. The
    loop is closed by ``surveys.answers.loop_close_on_touch``."""
    closed, still_open = Q(loop_closed_at__isnull=False), Q(loop_closed_at__isnull=True)
    row = responses_qs.order_by().aggregate(
        count_closed=Count("pk", filter=closed),
        total=Sum(tallies.LOOP_ELAPSED, filter=closed),
        count_open=Count("pk", filter=scoring.detractor_q() & still_open),
    )
    return {
        "count_closed": row["count_closed"],
        "avg_hours": average_hours(row["total"], row["count_closed"]),
        "count_open": row["count_open"],
    }


def average_hours(total: timedelta | None, closed: int) -> Decimal | None:
    """The average time to close a loop in hours, from the time added up over ``closed`` loops: the same
    division whether the total was added up from the answers or from the tallies."""
    if not closed or total is None:
        return None
    return Decimal(total.total_seconds()) / 3600 / closed


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


def _loop_stats(source: "_LiveCounts | _TallyCounts", kind: str) -> LoopStats | None:
    """Detractors and how fast their loop was closed, as ``loop_close_stats`` defines it. eNPS has none:
    nobody may know whom to call back."""
    if kind == ENPS or kind not in scoring.DETRACTOR_MAX:
        return None
    stats = source.loop_stats(scoring.DETRACTOR_MAX[kind])
    avg_hours = stats["avg_hours"]
    return LoopStats(
        detractors=stats["count_closed"] + stats["count_open"],
        closed=stats["count_closed"],
        avg_hours=avg_hours,
    )


# --- The results ------------------------------------------------------------------------------------------


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
        return charts.track(self.summary)


def counts_by(qs: QuerySet[Response], *keys: str) -> dict[tuple, dict[int, int]]:
    """{(key values…): {score: n}} in one grouped query."""
    grouped: dict[tuple, dict[int, int]] = defaultdict(dict)
    for row in qs.order_by().values(*keys, "score").annotate(n=Count("pk")):
        grouped[tuple(row[k] for k in keys)][row["score"]] = row["n"]
    return grouped


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


# The slices read what each answer (and delivery) counts for, kept as it was when given (surveys.models.
# _CountedFor): reassigning a customer does not move its past answers to the new CSM.
SLICES = [
    ("csm", _("By CSM"), "csm_id", "csm__full_name", None),
    ("segment", _("By segment"), "segment", None, Segment),
    ("service_model", _("By service model"), "service_model", None, ServiceModel),
    ("plan", _("By plan"), "plan_tier", None, PlanTier),
]


SLICE_KEYS = ("csm_id", "csm__full_name", "segment", "service_model", "plan_tier")

SLICE_PATHS = tuple(p for _key, _title, path, name_path, _c in SLICES for p in (path, name_path) if p)


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
    chi: list[ChiScore] | None = None,
) -> list[Slice]:
    """Each slice rolled up in Python from the rows grouped by every slice key at once (see survey_results)."""
    slices = []
    for key, title, path, name_path, choices in SLICES:
        keys = (path, name_path) if name_path else (path,)
        counts = chi_counts_by(chi, *keys) if chi is not None else _roll_up(all_counts, keys, _add_counts)
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


def _chi_months(chi: list[ChiScore]) -> dict[date, dict[int, int]]:
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


# --- Live or tallied counts -------------------------------------------------------------------------------


class _LiveCounts:
    """The counts of a scope read from the answers and deliveries themselves."""

    as_of = None

    def __init__(self, user: User, scope: Scope) -> None:
        self.responses = scope.responses(user)
        self.deliveries = scope.deliveries(user)

    def scores(self, *keys: str) -> dict[tuple, dict[int, int]]:
        return counts_by(self.responses, *keys)

    def sent(self, *keys: str) -> dict[tuple, tuple[int, int]]:
        return _sent_and_answered(self.deliveries, *keys)

    def loop_stats(self, detractor_max: int) -> dict:
        return loop_close_stats(self.responses.filter(score__lte=detractor_max))

    def months(self) -> dict[date, dict[int, int]]:
        tz = timezone.get_current_timezone()
        counts = counts_by(self.responses.annotate(month=TruncMonth("answered_at", tzinfo=tz)), "month")
        return {(timezone.localtime(m, tz).date() if isinstance(m, datetime) else m): c for (m,), c in counts.items()}


class _TallyCounts:
    """The same counts read from the tallies, scoped by the same door (see surveys.tallies)."""

    def __init__(self, user: User, scope: Scope, build: TallyBuild) -> None:
        self.as_of = build.built_at
        visible = visible_filter(user, people=tallies.PEOPLE)
        month = timezone.localtime(scope.since).date() if scope.since is not None else None
        self.answers = scope.narrow(AnswerTally.objects.filter(visible), since="month__gte", since_value=month)
        self.deliveries = scope.narrow(DeliveryTally.objects.filter(visible), since="month__gte", since_value=month)

    def scores(self, *keys: str) -> dict[tuple, dict[int, int]]:
        fields = list(keys)
        grouped: dict[tuple, dict[int, int]] = defaultdict(dict)
        for row in self.answers.order_by().values(*fields, "score").annotate(n=Sum("answers")):
            grouped[tuple(row[f] for f in fields)][row["score"]] = row["n"]
        return grouped

    def sent(self, *keys: str) -> dict[tuple, tuple[int, int]]:
        fields = list(keys)
        sums = {"sent_n": Sum("sent"), "answered_n": Sum("answered")}
        if not fields:
            row = self.deliveries.order_by().aggregate(**sums)
            return {(): (row["sent_n"] or 0, row["answered_n"] or 0)}
        rows = self.deliveries.order_by().values(*fields).annotate(**sums)
        return {tuple(row[f] for f in fields): (row["sent_n"], row["answered_n"]) for row in rows}

    def loop_stats(self, detractor_max: int) -> dict:
        row = (
            self.answers.filter(score__lte=detractor_max)
            .order_by()
            .aggregate(detractors=Sum("answers"), closed=Sum("loops_closed"), total=Sum("loop_time"))
        )
        closed = row["closed"] or 0
        return {
            "count_closed": closed,
            "avg_hours": average_hours(row["total"], closed),
            "count_open": (row["detractors"] or 0) - closed,
        }

    def months(self) -> dict[date, dict[int, int]]:
        return {month: counts for (month,), counts in self.scores("month").items()}


def _at_month_start(moment: datetime | None) -> bool:
    """Whether a period starts on a month (the tallies count by month), or there is no period."""
    local = timezone.localtime(moment) if moment is not None else None
    return local is None or (local.day == 1 and local.time() == datetime.min.time())


def tally_build_for(user: User) -> TallyBuild | None:
    """A fresh tally build when the user sees enough customers (LEME_SURVEY_TALLIES_FROM; by default everyone),
    else None. The count of visible customers is kept on the user object for the rest of the request."""
    threshold = settings.LEME_SURVEY_TALLIES_FROM
    build = tallies.fresh_build() if threshold >= 0 else None
    if build is None or threshold == 0:  # 0: everyone reads them, no need to count whom the user sees
        return build
    if not hasattr(user, "_leme_visible_customers"):
        user._leme_visible_customers = customers_visible_to(user).count()
    return build if user._leme_visible_customers >= threshold else None


def _counts_for(user: User, scope: Scope) -> _LiveCounts | _TallyCounts:
    if scope.kind in tallies.KINDS and _at_month_start(scope.since):
        build = tally_build_for(user)
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
    counts = chi_counts_by(chi).get((), {}) if chi is not None else total
    summary = summarise(scope.kind, counts, scale_top=scope.scale_top)
    bands = bands_for(scope.kind, scope.scale_top)
    results = Results(scope=scope, summary=summary, sent=sent, answered=answered, bands=bands, as_of=source.as_of)
    if not detail or summary.hidden:
        return results
    results.distribution = charts.distribution(
        counts, bands, low=scope.scale_min, high=scope.scale_top, total=summary.count
    )
    for band in bands:
        n = sum(c for s, c in counts.items() if band.low <= s <= band.high)
        results.band_counts.append((band, n, scoring.pct(n, summary.count)))
    results.trend = _trend(scope, _chi_months(chi) if chi is not None else source.months(), months=months)
    if sliced:
        results.slices = _slices(scope, all_counts, all_sent, chi=chi)
    results.loop = _loop_stats(source, scope.kind)
    return results
