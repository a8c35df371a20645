"""Building the rollups from the ledger, set-based: one INSERT … SELECT per period, grouped by slice.

Which periods: every month, every trailing twelve months, every quarter and every year since the ledger's
first month (the running quarter and year up to the current month), the ones :func:`periods_ending_from`
lists. A change to the ledger in month M changes every period ending in M or later and no other, so a
refresh rebuilds only those.

Each period is replaced in its own transaction under an advisory lock: readers see the previous rows until
it commits, and two rebuilds of the same rows never interleave.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import astuple, dataclass, field
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from core import clock
from metrics import cohorts
from metrics.facts import (
    FACTS_SQL,
    SLICE,
    TOTALS_SQL,
    LedgerHistory,
    churn_reasons_by_slice,
    sql_params,
    totals_by_slice,
    tune_for_facts,
)
from metrics.figures import Totals
from metrics.models import ChurnReasonRollup, Rollup, RollupBuild
from metrics.periods import Period, periods_ending_from
from portfolio.ledger import month_start
from portfolio.models import MrrMovement

logger = logging.getLogger(__name__)

LOCK_KEY = 0x4C454D45_4D  # "LEMEM": the metrics rollups' advisory lock

# One statement writes both the totals and the churn reasons of a period, from one computation of the facts.
INSERT_SQL = f"""
WITH facts AS MATERIALIZED ({FACTS_SQL}),
totals AS (
    INSERT INTO metrics_rollup (period_start, period_end, {", ".join(SLICE)}, {", ".join(TOTALS_SQL)})
    SELECT %(start)s, %(end)s, {", ".join(SLICE)}, {", ".join(TOTALS_SQL.values())}
    FROM facts
    GROUP BY {", ".join(SLICE)}
)
INSERT INTO metrics_churnreasonrollup
    (period_start, period_end, {", ".join(SLICE)}, kind, reason_id, customers, churn_cents)
SELECT %(start)s, %(end)s, {", ".join(SLICE)}, churn_kind, churn_reason_id, COUNT(*), SUM(churn_cents)
FROM facts
WHERE last_churn_month IS NOT NULL
GROUP BY {", ".join(SLICE)}, churn_kind, churn_reason_id
"""  # noqa: S608 - built from constants; values travel as parameters


def first_ledger_month() -> date | None:
    first = MrrMovement.objects.order_by("month").values_list("month", flat=True).first()
    return first


def periods_to_build(since: date | None = None, *, current: date | None = None) -> list[Period]:
    """The periods whose rollups depend on the ledger from ``since`` on (all of them without ``since``)."""
    first = first_ledger_month()
    if first is None:
        return []
    current = month_start(current or clock.today())
    return unique_ranges(periods_ending_from(first, since or first, current))


def unique_ranges(periods: Iterable[Period]) -> list[Period]:
    """One period per range of months: a month and a quarter of one month share their rollups."""
    seen: dict[tuple[date, date], Period] = {}
    for period in periods:
        seen.setdefault((period.start, period.end), period)
    return list(seen.values())


def build_period(period: Period, *, history: LedgerHistory | None = None) -> None:
    """Replace ``period``'s rollups: one set-based statement on PostgreSQL; elsewhere (the embedded SQLite
    run, a small demo) the same totals computed in Python from the ledger, which ``check`` proves equal."""
    if connection.vendor != "postgresql":
        build_period_from_history(period, history or LedgerHistory())
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        tune_for_facts(cursor)
        Rollup.objects.filter(period_start=period.start, period_end=period.end).delete()
        ChurnReasonRollup.objects.filter(period_start=period.start, period_end=period.end).delete()
        cursor.execute(INSERT_SQL, sql_params(period))


@transaction.atomic
def build_period_from_history(period: Period, history: LedgerHistory) -> None:
    """``period``'s rollups from the ledger read into memory (the Python reference), for databases without
    PostgreSQL's SQL."""
    Rollup.objects.filter(period_start=period.start, period_end=period.end).delete()
    ChurnReasonRollup.objects.filter(period_start=period.start, period_end=period.end).delete()
    facts = history.facts(period)
    Rollup.objects.bulk_create(
        Rollup(
            period_start=period.start,
            period_end=period.end,
            **dict(zip(SLICE, key, strict=True)),
            **dict(zip(Totals.names(), astuple(totals), strict=True)),
        )
        for key, totals in totals_by_slice(facts).items()
    )
    ChurnReasonRollup.objects.bulk_create(
        ChurnReasonRollup(
            period_start=period.start,
            period_end=period.end,
            **dict(zip((*SLICE, "kind", "reason_id"), key, strict=True)),
            customers=customers,
            churn_cents=cents,
        )
        for key, (customers, cents) in churn_reasons_by_slice(facts).items()
    )


def build(periods: Iterable[Period]) -> int:
    history = LedgerHistory() if connection.vendor != "postgresql" else None
    built = 0
    for period in periods:
        build_period(period, history=history)
        built += 1
    return built


def rebuild_all(*, current: date | None = None) -> int:
    """Every period from the ledger's first month, and the rows of periods no longer asked for removed."""
    started = time.monotonic()
    periods = periods_to_build(current=current)
    built = build(periods)
    cohorts.build(last=month_start(current or clock.today()))
    keep = {(p.start, p.end) for p in periods}
    stale = [
        pk
        for pk, start, end in Rollup.objects.values_list("pk", "period_start", "period_end")
        if (start, end) not in keep
    ]
    Rollup.objects.filter(pk__in=stale).delete()
    gone = [
        pk
        for pk, start, end in ChurnReasonRollup.objects.values_list("pk", "period_start", "period_end")
        if (start, end) not in keep
    ]
    ChurnReasonRollup.objects.filter(pk__in=gone).delete()
    seconds = time.monotonic() - started
    RollupBuild.objects.update_or_create(pk=1, defaults={"built_at": timezone.now(), "seconds": seconds})
    logger.info("metrics rollups rebuilt", extra={"periods": built, "seconds": round(seconds, 1)})
    return built


# --- The proof ---------------------------------------------------------------------------------------


@dataclass
class CheckReport:
    periods: int = 0
    slices: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def stored_by_slice(period: Period) -> dict[tuple, Totals]:
    rows = Rollup.objects.filter(period_start=period.start, period_end=period.end).values(*SLICE, *Totals.names())
    return {tuple(row[name] for name in SLICE): Totals.of(row) for row in rows}


def stored_reasons(period: Period) -> dict[tuple, tuple[int, int]]:
    rows = ChurnReasonRollup.objects.filter(period_start=period.start, period_end=period.end).values_list(
        *SLICE, "kind", "reason_id", "customers", "churn_cents"
    )
    return {tuple(row[:6]): (row[6], row[7]) for row in rows}


def check(*, current: date | None = None, history: LedgerHistory | None = None) -> CheckReport:
    """Compare every period's stored rollups with the totals computed in Python straight from the ledger
    rows, slice by slice, and check MRR(end) = MRR(start) + movements in each; and the cohort cells likewise."""
    history = history or LedgerHistory()
    report = CheckReport()
    report.differences.extend(cohorts.check(last=month_start(current or clock.today()), history=history))
    for period in periods_to_build(current=current):
        report.periods += 1
        facts = history.facts(period)
        if churn_reasons_by_slice(facts) != stored_reasons(period):
            report.differences.append(f"{period.start:%Y-%m}..{period.end:%Y-%m}: churn reasons differ from the ledger")
        expected = totals_by_slice(facts)
        stored = stored_by_slice(period)
        for key in sorted(set(expected) | set(stored), key=str):
            report.slices += 1
            want, have = expected.get(key), stored.get(key)
            label = f"{period.start:%Y-%m}..{period.end:%Y-%m} {key}"
            if want != have:
                report.differences.append(f"{label}: ledger {want} ≠ rollup {have}")
            elif have.mrr_end_cents != have.mrr_start_cents + have.net_new_cents:
                report.differences.append(f"{label}: MRR at the end ≠ MRR at the start + movements")
    return report
