"""The geometry of the results charts: where a score sits on its track, how long a bar is, the score
distribution's bars. Widths and offsets are in % of the chart, so the templates only place them."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from surveys import scoring
from surveys.models import SurveyKind
from surveys.scoring import NPS_KINDS, Band, Summary


def track(summary: Summary) -> int:
    """Where a score sits on a 0–100 track: NPS from −100 to 100, CSAT's %, CES's 1–7, CHI's 0–10."""
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


def extent(summary) -> tuple[int, int]:
    """Where a score's bar starts and how long it is, in % of the track: NPS grows either way from a zero
    line in the middle; the other kinds grow from the start."""
    if summary.score is None:
        return 0, 0
    if summary.kind in NPS_KINDS:
        half = min(50, round(abs(summary.score) / 2))
        return (50, half) if summary.score >= 0 else (50 - half, half)
    return 0, track(summary)


@dataclass(frozen=True)
class Bar:
    score: int
    count: int
    pct: Decimal | None
    width: int  # % of the tallest bar
    colour: str


def distribution(counts: dict[int, int], bands: list[Band], *, low: int, high: int, total: int) -> list[Bar]:
    """One bar per score from ``low`` to ``high``, as wide as its share of the tallest, coloured by its band."""
    tallest = max(counts.values(), default=0)
    bars = []
    for score in range(low, high + 1):
        n = counts.get(score, 0)
        band = scoring.band_of(bands, score)
        bars.append(
            Bar(
                score=score,
                count=n,
                pct=scoring.pct(n, total),
                width=round(100 * n / tallest) if tallest else 0,
                colour=band.colour if band else "",
            )
        )
    return bars


@dataclass(frozen=True)
class Month:
    month: date
    summary: Summary

    @property
    def column(self) -> tuple[int, int]:
        """The bar of a column chart as (bottom, height) in % of its height."""
        return extent(self.summary)

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
        return extent(self.summary)

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
