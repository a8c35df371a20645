"""The periods the metrics page offers: a month, a quarter, a year, the trailing twelve months.

A period is a range of whole months, ``start`` to ``end`` (first days, both included). A quarter or a year
still running ends with the current month. Rollups are stored per period, because a customer counts in
the slice of its owner at the start of the period, and the customers present at the start of a quarter
are not the sum of those present at the start of each of its months.
"""

from dataclasses import dataclass
from datetime import date

from django.db import models
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from portfolio.ledger import add_months, month_start


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")
    TRAILING = "t12m", _("Trailing 12 months")
    CUSTOM = "custom", _("Range of months")


# The longest range of months a person may pick.
MAX_CUSTOM_MONTHS = 36


def months_apart(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date

    @property
    def months(self) -> int:
        return months_apart(self.start, self.end) + 1

    @classmethod
    def of(cls, kind: str, month: date, *, current: date) -> "Period":
        """The period of ``kind`` that contains ``month`` (the trailing twelve months end with it); a
        period still running ends with ``current`` (the current month)."""
        month = month_start(month)
        if kind == PeriodKind.QUARTER:
            start = month.replace(month=(month.month - 1) // 3 * 3 + 1)
            end = add_months(start, 2)
        elif kind == PeriodKind.YEAR:
            start, end = month.replace(month=1), month.replace(month=12)
        elif kind == PeriodKind.TRAILING:
            start, end = add_months(month, -11), month
        else:
            kind, start, end = PeriodKind.MONTH, month, month
        return cls(kind, start, min(end, max(current, start)))

    @classmethod
    def custom(cls, start: date, end: date) -> "Period":
        """A range of whole months a person picked, ``start`` to ``end``."""
        return cls(PeriodKind.CUSTOM, month_start(start), month_start(end))

    def previous(self) -> "Period":
        """The period of the same kind just before this one (a whole quarter or year; as many months before a
        custom range)."""
        step = {PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12, PeriodKind.TRAILING: 12}.get(self.kind, 1)
        if self.kind == PeriodKind.CUSTOM:
            step = self.months
        start = add_months(self.start, -step)
        return Period(self.kind, start, add_months(start, step - 1))

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return formats.date_format(self.start, "F Y")
        if self.kind == PeriodKind.QUARTER:
            return f"{(self.start.month - 1) // 3 + 1}T {self.start.year}"
        if self.kind == PeriodKind.YEAR:
            return str(self.start.year)
        if self.kind == PeriodKind.CUSTOM and self.start == self.end:
            return formats.date_format(self.start, "F Y")
        return f"{formats.date_format(self.start, 'M Y')} – {formats.date_format(self.end, 'M Y')}"

    def month_list(self) -> list[date]:
        return [add_months(self.start, i) for i in range(self.months)]


def periods_ending_from(first: date, since: date, current: date) -> list[Period]:
    """Every period the pages can ask for whose last month is ``since`` or later, given the ledger's first
    month ``first`` and the current month: each month, the trailing twelve months ending with each month,
    each quarter and each year (the running ones up to the current month)."""
    since = max(month_start(since), month_start(first))
    wanted: set[Period] = set()
    month = since
    while month <= current:
        for kind in PeriodKind.values:
            if kind == PeriodKind.CUSTOM:  # built on demand (metrics.ranges)
                continue
            period = Period.of(kind, month, current=current)
            if period.end >= since:
                wanted.add(period)
        month = add_months(month, 1)
    return sorted(wanted, key=lambda p: (p.end, p.start, p.kind))
