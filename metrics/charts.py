"""What the metrics page's charts draw, handed to the page as JSON (``json_script``) for static/js/metrics.js.

Two charts over the same months (the period's, at least the twelve ending with its last):

* MRR: the movements of each month as stacked bars, gains above zero (new, expansion, reactivation) and losses
  below (contraction, churn), with the month-end MRR as a line;
* retention: each month's logo churn and NRR as lines (an undefined month is a gap, never 0).

Every bar and point carries the link to the customers behind it (the drill-down of that month and figure), and
the same figures go to the page as tables, for those who do not see the chart.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.urls import reverse
from django.utils import formats

from metrics.figures import LABELS, Figure, Totals, headline
from metrics.links import query_of
from metrics.periods import PeriodKind
from metrics.selectors import MetricsFilters

GAINS = ["new", "expansion", "reactivation"]
LOSSES = ["contraction", "churn"]


@dataclass
class ChartMonth:
    month: date
    query: str  # the month's page state, for the drill-down links
    totals: Totals
    logo_churn: Figure
    nrr: Figure

    @property
    def movements(self) -> list[tuple[str, int]]:
        return [(key, getattr(self.totals, f"{key}_cents")) for key in GAINS + LOSSES]


def chart_months(months: list[tuple[date, Totals]], filters: MetricsFilters) -> list[ChartMonth]:
    result = []
    for month, totals in months:
        figures = headline(totals)
        result.append(
            ChartMonth(
                month=month,
                query=query_of(PeriodKind.MONTH, month, filters),
                totals=totals,
                logo_churn=figures["logo_churn"],
                nrr=figures["nrr"],
            )
        )
    return result


def _reais(cents: int) -> float:
    return float(Decimal(cents) / 100)


def _rate(figure: Figure) -> float | None:
    return None if figure.value is None else float(round(figure.value * 100, 2))


def chart_payload(months: list[ChartMonth], *, language: str) -> dict:
    """The JSON the charts draw: labels, series (reais, percentages; colours are the script's), and for every
    point the URL of the customers behind it."""
    drill = reverse("metrics:drilldown")

    def series(key: str, values: list) -> dict:
        return {
            "key": key,
            "label": str(LABELS[key]),
            "values": values,
            "links": [f"{drill}?{m.query}&figure={key}" for m in months],
        }

    bars = [
        series(key, [_reais(getattr(m.totals, f"{key}_cents")) * (-1 if key in LOSSES else 1) for m in months])
        for key in GAINS + LOSSES
    ]
    return {
        "locale": "pt-BR" if language.startswith("pt") else "en",
        "currency": "BRL",
        "labels": [formats.date_format(m.month, "M Y") for m in months],
        "mrr": {"bars": bars, "line": series("mrr", [_reais(m.totals.mrr_end_cents) for m in months])},
        "retention": [
            series("logo_churn", [_rate(m.logo_churn) for m in months]),
            series("nrr", [_rate(m.nrr) for m in months]),
        ],
    }
