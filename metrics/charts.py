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
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from html import escape

from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from metrics.cohorts import CohortGrid
from metrics.figures import LABELS, Figure, Totals, headline
from metrics.links import query_of
from metrics.periods import PeriodKind
from metrics.selectors import MetricsFilters
from metrics.templatetags.metrics_tags import figure as figure_tag
from portfolio.templatetags.leme import money

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


# --- Cohort tables ----------------------------------------------------------------------------------------


@dataclass
class CohortCellView:
    age: int
    figure: Figure
    css: str  # the shade, in steps of 10 %
    link: str  # the customers still paying that month
    customers: int
    mrr_cents: int
    text: str = ""  # the figure as the page writes it
    title: str = ""  # the tooltip: customers and MRR


@dataclass
class CohortRowView:
    cohort: date
    customers: int
    mrr_cents: int
    link: str  # the cohort's customers in month 0
    cells: list[CohortCellView]

    @property
    def cells_html(self) -> str:
        """The row's cells as HTML, escaped here: up to 24 a row, 1,152 in the two tables, which the template
        language (or ``format_html``, whose lazy-text checks cost more than the escaping) would take several times
        longer to write out one by one."""
        return mark_safe("".join(cell_html(cell) for cell in self.cells))


def cell_html(cell: CohortCellView) -> str:
    """One cell, every value escaped as Django's ``escape`` does (``html.escape``)."""
    if cell.text:
        return (
            f'<td class="num {escape(cell.css)}"><a href="{escape(cell.link)}" title="{escape(cell.title)}">'
            f"{escape(cell.text)}</a></td>"
        )
    return format_html('<td class="num {}">{}</td>', cell.css, figure_tag(cell.figure))


def percent_text(value: Decimal | None) -> str:
    """A share as the page writes it (one decimal, half up, in the active language), "" when undefined."""
    if value is None:
        return ""
    rounded = (Decimal(value) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return formats.number_format(rounded, 1, use_l10n=True, force_grouping=True) + "\u00a0%"


def percent_writer():
    """``percent_text`` for many cells at once: the active language's decimal separator read once, and Django's
    number formatting kept for the rare share of 1,000 % or more (the only ones with a thousands separator)."""
    decimal_separator = formats.get_format("DECIMAL_SEPARATOR")

    def write(value: Decimal | None) -> str:
        if value is None:
            return ""
        rounded = (Decimal(value) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if not -1000 < rounded < 1000:
            return percent_text(value)
        return f"{rounded:.1f}".replace(".", decimal_separator) + "\u00a0%"

    return write


def heat(value: Decimal | None) -> str:
    """The shade of a retention: heat-0 (under 10 %) to heat-10 (100 % and more); above 100 % also heat-over."""
    if value is None:
        return ""
    step = max(0, min(10, int(value * 10)))
    return f"heat-{step} heat-over" if value > 1 else f"heat-{step}"


def cohort_views(grid: CohortGrid, filters: MetricsFilters) -> list[dict]:
    """The two cohort tables, logo retention and net MRR retention, each cell linking to the customers behind it
    (the drill-down of that month, narrowed to the cohort)."""
    drill = reverse("metrics:drilldown")
    # Up to 24 × 24 cells in each table: their links and tooltips are built here with plain string formatting,
    # and the template only writes them out.
    tails = {row.cohort: query_of(PeriodKind.MONTH, row.cohort, filters, cohort=f"{row.cohort:%Y-%m}", figure="mrr")
             for row in grid.rows}  # fmt: skip

    percent = percent_writer()

    # Both tables have the same cells' links and tooltips: each written once.
    @cache
    def link(cohort: date, month: date) -> str:
        return f"{drill}?{tails[cohort].replace(f'month={cohort:%Y-%m}', f'month={month:%Y-%m}', 1)}"

    @cache
    def title(customers: int, mrr_cents: int) -> str:
        text = ngettext("%(n)s customer paying, %(mrr)s", "%(n)s customers paying, %(mrr)s", customers)
        return text % {"n": customers, "mrr": money(mrr_cents)}

    tables = []
    for key, attr in (("logo_retention", "logo_retention"), ("mrr_retention", "mrr_retention")):
        rows = [
            CohortRowView(
                cohort=row.cohort,
                customers=row.customers,
                mrr_cents=row.mrr_cents,
                link=link(row.cohort, row.cohort),
                cells=[
                    CohortCellView(
                        age=cell.age,
                        figure=Figure(key, getattr(cell, attr), "rate", "" if not row.empty else EMPTY_COHORT),
                        css=heat(getattr(cell, attr)),
                        link=link(row.cohort, cell.month),
                        customers=cell.customers,
                        mrr_cents=cell.mrr_cents,
                        text=percent(getattr(cell, attr)),
                        title=title(cell.customers, cell.mrr_cents),
                    )
                    for cell in row.cells
                ],
            )
            for row in grid.rows
        ]
        tables.append({"key": key, "label": COHORT_LABELS[key], "how": COHORT_HOW[key], "rows": rows})
    return tables


EMPTY_COHORT = _("No customer had its first paid month in this month.")
COHORT_LABELS = {"logo_retention": _("Logo retention"), "mrr_retention": _("Net MRR retention")}
COHORT_HOW = {
    "logo_retention": _(
        "Of the customers whose first paid month is the cohort's (month 0), the share still paying at the end of "
        "each month after it. A customer that churns and comes back counts again from the month it pays again."
    ),
    "mrr_retention": _(
        "The cohort's MRR at the end of each month ÷ its MRR in month 0: expansion included, so it can pass 100 %."
    ),
}
