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
    KINDS,
    SLICE,
    TOTALS_SQL,
    CustomerFacts,
    LedgerHistory,
    churn_reasons_by_slice,
    sql_params,
    totals_by_slice,
    tune_for_facts,
)
from metrics.figures import Totals
from metrics.models import ChurnReasonRollup, CustomerFact, Rollup, RollupBuild
from metrics.periods import Period, periods_ending_from
from portfolio.ledger import month_start
from portfolio.models import MrrMovement

logger = logging.getLogger(__name__)

LOCK_KEY = 0x4C454D45_4D  # "LEMEM": the metrics rollups' advisory lock

# The columns of a customer's facts the drill-downs read (``metrics.models.CustomerFact``).
FACT_COLUMNS = (
    "customer_id", *SLICE, "mrr_start_cents", "mrr_end_cents", *(f"{k}_cents" for k in KINDS),
    "last_churn_month", "churn_kind", "churn_reason_id",
)  # fmt: skip

# One statement writes the totals, the churn reasons and each customer's facts of a period, from one computation
# of the facts.
INSERT_SQL = f"""
WITH facts AS MATERIALIZED ({FACTS_SQL}),
customer_facts AS (
    INSERT INTO metrics_customerfact (period_start, period_end, {", ".join(FACT_COLUMNS)})
    SELECT %(start)s, %(end)s, {", ".join(FACT_COLUMNS)}
    FROM facts
),
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


DERIVED_TABLES = (
    "metrics_rollup", "metrics_churnreasonrollup", "metrics_customerfact", "metrics_cohortcell",
    "metrics_cohortownercell", "metrics_cohortmember",
)  # fmt: skip


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
        delete_period(period)
        cursor.execute(INSERT_SQL, sql_params(period))


def is_built(period: Period) -> bool:
    """Whether ``period``'s rollups are stored (a range with no customer at all has none: it is built again)."""
    return Rollup.objects.filter(period_start=period.start, period_end=period.end).exists()


def forget_custom(*, since: date, keep: Iterable[Period]) -> int:
    """Remove the stored ranges that end in or after ``since`` and are not in ``keep`` (the standard ranges the
    refresh just built): custom ranges a person asked for, which the ledger's change from ``since`` on made stale.
    Returns how many ranges were forgotten."""
    kept = {(p.start, p.end) for p in keep}
    ranges = {
        pair
        for pair in Rollup.objects.filter(period_end__gte=since)
        .values_list("period_start", "period_end")
        .distinct()
        .order_by()
        if pair not in kept
    }
    for start, end in ranges:
        for model in (Rollup, ChurnReasonRollup, CustomerFact):
            model.objects.filter(period_start=start, period_end=end).delete()
    return len(ranges)


def delete_period(period: Period) -> None:
    for model in (Rollup, ChurnReasonRollup, CustomerFact):
        model.objects.filter(period_start=period.start, period_end=period.end).delete()


@transaction.atomic
def build_period_from_history(period: Period, history: LedgerHistory) -> None:
    """``period``'s rollups from the ledger read into memory (the Python reference), for databases without
    PostgreSQL's SQL."""
    delete_period(period)
    facts = history.facts(period)
    CustomerFact.objects.bulk_create(
        (CustomerFact(period_start=period.start, period_end=period.end, **fact_values(fact)) for fact in facts),
        batch_size=1000,
    )
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


def fact_values(fact: CustomerFacts) -> dict:
    """A customer's facts as the columns of :class:`CustomerFact` (and of the rows ``check`` compares)."""
    return {
        "customer_id": fact.customer_id,
        **dict(zip(SLICE, fact.slice, strict=True)),
        "mrr_start_cents": fact.mrr_start_cents,
        "mrr_end_cents": fact.mrr_end_cents,
        **{f"{k}_cents": getattr(fact, f"{k}_cents") for k in KINDS},
        "last_churn_month": fact.last_churn_month,
        "churn_kind": fact.churn_kind,
        "churn_reason_id": fact.churn_reason_id,
    }


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
    built_ranges = set(CustomerFact.objects.values_list("period_start", "period_end").distinct().order_by())
    for start, end in built_ranges - keep:
        CustomerFact.objects.filter(period_start=start, period_end=end).delete()
    if connection.vendor == "postgresql":
        # Fresh statistics for the rewritten tables: the planner's row estimates for the page's and the
        # drill-downs' reads (a few seconds on 50,000 customers).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(DERIVED_TABLES)}")
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


def stored_facts(period: Period) -> dict[int, dict]:
    rows = CustomerFact.objects.filter(period_start=period.start, period_end=period.end).values(*FACT_COLUMNS)
    return {row["customer_id"]: row for row in rows}


def facts_differences(period: Period, facts: list[CustomerFacts]) -> list[str]:
    """The customers whose stored facts of ``period`` differ from the ledger's (or are missing or extra)."""
    expected = {fact.customer_id: fact_values(fact) for fact in facts}
    stored = stored_facts(period)
    wrong = sorted(c for c in set(expected) | set(stored) if expected.get(c) != stored.get(c))
    label = f"{period.start:%Y-%m}..{period.end:%Y-%m}"
    return [f"{label} customer {c}: ledger {expected.get(c)} ≠ stored facts {stored.get(c)}" for c in wrong]


def check(*, current: date | None = None, history: LedgerHistory | None = None) -> CheckReport:
    """Compare every period's stored rollups with the totals computed in Python straight from the ledger
    rows, slice by slice, and check MRR(end) = MRR(start) + movements in each; and each customer's stored facts,
    the cohort cells and the cohort members likewise."""
    history = history or LedgerHistory()
    report = CheckReport()
    report.differences.extend(cohorts.check(last=month_start(current or clock.today()), history=history))
    for period in periods_to_build(current=current):
        report.periods += 1
        facts = history.facts(period)
        if churn_reasons_by_slice(facts) != stored_reasons(period):
            report.differences.append(f"{period.start:%Y-%m}..{period.end:%Y-%m}: churn reasons differ from the ledger")
        report.differences.extend(facts_differences(period, facts))
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
