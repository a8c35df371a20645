"""The metrics pages' state as a query string, so every link (a table cell, a chart's bar, a cohort cell) keeps
the period and the filters."""

from datetime import date

from django.http import QueryDict

from metrics.periods import PeriodKind
from metrics.selectors import MetricsFilters


def query_of(kind: str, month: date, filters: MetricsFilters, *, start: date | None = None, **override) -> str:
    query = QueryDict(mutable=True)
    for key, value in state_of(kind, month, filters, start=start, **override):
        query[key] = value
    return query.urlencode()


def state_of(
    kind: str, month: date, filters: MetricsFilters, *, start: date | None = None, **override
) -> list[tuple[str, str]]:
    """The same state as (name, value) pairs: the hidden fields of a form posted from the page. ``start``: a
    custom range's first month (kept as ``from``; the other kinds have none)."""
    values = {
        "period": kind,
        "from": f"{start:%Y-%m}" if start is not None and kind == PeriodKind.CUSTOM else None,
        "month": f"{month:%Y-%m}",
        "owner": filters.owner,
        "segment": filters.segment,
        "service_model": filters.service_model,
        "plan_tier": filters.plan_tier,
        **override,
    }
    return [(key, str(value)) for key, value in values.items() if value not in (None, "")]
