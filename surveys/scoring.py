"""Survey scores, as DOMAIN.md defines them. Every rate with no answers is undefined (None, shown "—").

Each function takes the answers either one by one or already counted, {score: how many}: results pages
count in SQL and never turn hundreds of thousands of answers back into a list. ``summarise`` scores one set
of counts as its kind is scored; ``bands_for`` groups a kind's answers for colours and filters.

Scores, averages and percentages keep their full precision (``Decimal``): they are compared (an NPS zone, a
band) and added up as they are, and rounded only where they are shown — to one decimal, half up, by the
templates (``floatformat``), the API (``DISPLAY_PLACES``) and ``shown``. An NPS of 49.95 is in the
Improvement zone even though it reads "50"."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from surveys.models import SurveyKind

DETRACTOR_MAX = {"nps": 6, "enps": 6, "csat": 2, "ces": 3}
ENPS = SurveyKind.ENPS
NPS_KINDS = {SurveyKind.NPS, SurveyKind.ENPS}


Scores = Iterable[int] | Mapping[int, int]


def _counted(scores: Scores) -> Mapping[int, int]:
    return scores if isinstance(scores, Mapping) else Counter(scores)


def _many(counts: Mapping[int, int], keep) -> int:
    return sum(n for score, n in counts.items() if keep(score))


# Where a score, an average or a percentage is shown (pages, API): one decimal, rounded half up.
DISPLAY_PLACES = 1
DISPLAY_ROUNDING = ROUND_HALF_UP


def shown(value: Decimal | None) -> Decimal | None:
    """A value as it is shown: to ``DISPLAY_PLACES`` decimals, half up. For display only, never to compare."""
    if value is None:
        return None
    rounded = value.quantize(Decimal(1).scaleb(-DISPLAY_PLACES), rounding=DISPLAY_ROUNDING)
    return rounded.copy_abs() if rounded.is_zero() else rounded  # -0.004 reads 0.0, not -0.0


def pct(part: int, whole: int) -> Decimal | None:
    """A percentage, unrounded (see the module's docstring); undefined (None) when the denominator is 0."""
    if not whole:
        return None
    return Decimal(100) * part / whole


@dataclass(frozen=True)
class NpsResult:
    count: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> Decimal | None:
        """% promoters − % detractors, from −100 to 100."""
        if self.count == 0:
            return None
        return Decimal(100) * (self.promoters - self.detractors) / self.count

    @property
    def zone(self) -> str | None:
        """The Brazilian NPS zones."""
        score = self.score
        if score is None:
            return None
        if score <= 0:
            return "critica"
        if score <= 50:
            return "aperfeicoamento"
        if score <= 75:
            return "qualidade"
        return "excelencia"


ZONE_LABELS = {
    "critica": _("Critical"),
    "aperfeicoamento": _("Improvement"),
    "qualidade": _("Quality"),
    "excelencia": _("Excellence"),
}


def nps(scores: Scores) -> NpsResult:
    counts = _counted(scores)
    return NpsResult(
        count=sum(counts.values()),
        promoters=_many(counts, lambda s: s >= 9),
        passives=_many(counts, lambda s: 7 <= s <= 8),
        detractors=_many(counts, lambda s: s <= 6),
    )


@dataclass(frozen=True)
class AverageResult:
    count: int
    average: Decimal | None
    share: Decimal | None  # CSAT: % in the top two boxes; CES: % in 5–7


def csat(scores: Scores, *, scale_max: int = 5) -> AverageResult:
    counts = _counted(scores)
    total = sum(counts.values())
    return AverageResult(total, _average(counts), pct(_many(counts, lambda s: s >= scale_max - 1), total))


def ces(scores: Scores) -> AverageResult:
    counts = _counted(scores)
    total = sum(counts.values())
    return AverageResult(total, _average(counts), pct(_many(counts, lambda s: s >= 5), total))


def chi(scores: Scores) -> AverageResult:
    """CHI: each answer is a sum of 0/1 criteria (0–10); the average of the sums."""
    counts = _counted(scores)
    return AverageResult(sum(counts.values()), _average(counts), None)


def _average(counts: Mapping[int, int]) -> Decimal | None:
    total = sum(counts.values())
    if not total:
        return None
    points = sum(score * n for score, n in counts.items())
    return Decimal(points) / total


def scale_labels(kind: str) -> tuple[str, str]:
    """What the two ends of a kind's scale mean, in the email and on the answer page alike (lazy: they
    follow the language the reader's page or email is rendered in)."""
    if kind == "csat":
        return _("Very dissatisfied"), _("Very satisfied")
    if kind == "ces":
        return _("Strongly disagree"), _("Strongly agree")
    return _("Not at all likely"), _("Extremely likely")


def is_detractor(kind: str, score: int) -> bool:
    limit = DETRACTOR_MAX.get(kind)
    return limit is not None and score <= limit


def detractor_q() -> Q:
    """``is_detractor`` as a filter on answers (``kind`` and ``score``)."""
    q = Q()
    for kind, limit in DETRACTOR_MAX.items():
        q |= Q(kind=kind, score__lte=limit)
    return q


ENPS_MIN_ANSWERS = 5


def scale_for(kind: str, scale_max: int | None = None) -> tuple[int, int]:
    """The lowest and highest answer of a kind (CSAT on 1–5 or 1–10)."""
    if kind == SurveyKind.CSAT:
        return 1, scale_max if scale_max in (5, 10) else 5
    if kind == SurveyKind.CES:
        return 1, 7
    return 0, 10


# --- Bands: how a kind's answers are grouped --------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    low: int
    high: int
    colour: str


def bands_for(kind: str, scale_top: int) -> list[Band]:
    """How answers are grouped for colours and for the comments filter. The negative band is the one that
    asks for a follow-up (``DETRACTOR_MAX``), so a filtered list matches the detractor tasks."""
    if kind in NPS_KINDS:
        return [
            Band("detractor", _("Detractors"), 0, 6, "red"),
            Band("passive", _("Passives"), 7, 8, "yellow"),
            Band("promoter", _("Promoters"), 9, 10, "green"),
        ]
    if kind == SurveyKind.CSAT:
        low = DETRACTOR_MAX["csat"]
        return [
            Band("detractor", _("Unsatisfied"), 1, low, "red"),
            Band("passive", _("Neutral"), low + 1, scale_top - 2, "yellow"),
            Band("promoter", _("Satisfied"), scale_top - 1, scale_top, "green"),
        ]
    if kind == SurveyKind.CES:
        return [
            Band("detractor", _("Hard"), 1, DETRACTOR_MAX["ces"], "red"),
            Band("passive", _("Neutral"), 4, 4, "yellow"),
            Band("promoter", _("Easy"), 5, 7, "green"),
        ]
    return [
        Band("detractor", _("0–4 criteria"), 0, 4, "red"),
        Band("passive", _("5–7 criteria"), 5, 7, "yellow"),
        Band("promoter", _("8–10 criteria"), 8, 10, "green"),
    ]


def band_of(bands: list[Band], score: int) -> Band | None:
    return next((b for b in bands if b.low <= score <= b.high), None)


def band_colour(bands: list[Band], score: int) -> str:
    band = band_of(bands, score)
    return band.colour if band else ""


# --- One set of answers, scored ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One set of answers, scored as its kind is. ``score`` is the headline: the NPS, CSAT's % satisfied,
    CES's and CHI's average. ``hidden`` is an eNPS under the minimum: nothing is shown."""

    kind: str
    count: int
    score: Decimal | None = None
    average: Decimal | None = None
    share: Decimal | None = None
    nps: NpsResult | None = None
    hidden: bool = False

    @property
    def zone(self) -> str | None:
        return self.nps.zone if self.nps is not None else None

    @property
    def zone_label(self) -> str:
        return ZONE_LABELS.get(self.zone, "") if self.zone else ""

    @property
    def score_shown(self) -> Decimal | None:
        """The score as it reads (one decimal): a page's "+" goes by it, so that 0.04 is not "+0"."""
        return shown(self.score)

    @property
    def is_percent(self) -> bool:
        return self.kind == SurveyKind.CSAT


def summarise(kind: str, counts: dict[int, int], *, scale_top: int = 10) -> Summary:
    """Score answers given as {score: how many}."""
    total = sum(counts.values())
    if kind == ENPS and total < ENPS_MIN_ANSWERS:
        return Summary(kind=kind, count=total, hidden=True)
    if kind in NPS_KINDS:
        result = nps(counts)
        return Summary(kind=kind, count=total, score=result.score, nps=result)
    if kind == SurveyKind.CSAT:
        result = csat(counts, scale_max=scale_top)
        return Summary(kind=kind, count=total, score=result.share, average=result.average, share=result.share)
    if kind == SurveyKind.CES:
        result = ces(counts)
        return Summary(kind=kind, count=total, score=result.average, average=result.average, share=result.share)
    result = chi(counts)
    return Summary(kind=kind, count=total, score=result.average, average=result.average)
