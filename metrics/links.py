"""The metrics pages' state as a query string, so every link (a table cell, a chart's bar, a cohort cell) keeps
the period and the filters."""

from datetime import date

from django.http import QueryDict

from metrics.selectors import MetricsFilters


def query_of(kind: str, month: date, filters: MetricsFilters, **override) -> str:
    values = {
        "period": kind,
        "month": f"{month:%Y-%m}",
        "owner": filters.owner,
        "segment": filters.segment,
        "service_model": filters.service_model,
        "plan_tier": filters.plan_tier,
        **override,
    }
    query = QueryDict(mutable=True)
    for key, value in values.items():
        if value not in (None, ""):
            query[key] = str(value)
    return query.urlencode()
