"""Survey scores, as DOMAIN.md defines them. Every rate with no answers is undefined (None, shown "—").

Each function takes the answers either one by one or already counted, {score: how many}: results pages
count in SQL and never turn hundreds of thousands of answers back into a list."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

DETRACTOR_MAX = {"nps": 6, "enps": 6, "csat": 2, "ces": 3}


Scores = Iterable[int] | Mapping[int, int]


def _counted(scores: Scores) -> Mapping[int, int]:
    return scores if isinstance(scores, Mapping) else Counter(scores)


def _many(counts: Mapping[int, int], keep) -> int:
    return sum(n for score, n in counts.items() if keep(score))


def pct(part: int, whole: int) -> Decimal | None:
    """A percentage to one decimal; undefined (None) when the denominator is 0."""
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


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
        return (Decimal(100) * (self.promoters - self.detractors) / self.count).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

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
    return (Decimal(points) / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


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


ENPS_MIN_ANSWERS = 5
