"""Survey scores, as DOMAIN.md defines them. Every rate with no answers is undefined (None, shown "—")."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

DETRACTOR_MAX = {"nps": 6, "enps": 6, "csat": 2, "ces": 3}


def _pct(part: int, whole: int) -> Decimal | None:
    if whole == 0:
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


def nps(scores: Iterable[int]) -> NpsResult:
    scores = list(scores)
    return NpsResult(
        count=len(scores),
        promoters=sum(1 for s in scores if s >= 9),
        passives=sum(1 for s in scores if 7 <= s <= 8),
        detractors=sum(1 for s in scores if s <= 6),
    )


@dataclass(frozen=True)
class AverageResult:
    count: int
    average: Decimal | None
    share: Decimal | None  # CSAT: % in the top two boxes; CES: % in 5–7


def csat(scores: Iterable[int], *, scale_max: int = 5) -> AverageResult:
    scores = list(scores)
    top_two = sum(1 for s in scores if s >= scale_max - 1)
    return AverageResult(len(scores), _average(scores), _pct(top_two, len(scores)))


def ces(scores: Iterable[int]) -> AverageResult:
    scores = list(scores)
    easy = sum(1 for s in scores if s >= 5)
    return AverageResult(len(scores), _average(scores), _pct(easy, len(scores)))


def chi(scores: Iterable[int]) -> AverageResult:
    """CHI: each answer is a sum of 0/1 criteria (0–10); the average of the sums."""
    scores = list(scores)
    return AverageResult(len(scores), _average(scores), None)


def _average(scores: list[int]) -> Decimal | None:
    if not scores:
        return None
    return (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def is_detractor(kind: str, score: int) -> bool:
    limit = DETRACTOR_MAX.get(kind)
    return limit is not None and score <= limit


ENPS_MIN_ANSWERS = 5
