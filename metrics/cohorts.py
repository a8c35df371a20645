"""Cohorts (*safras*), from the ledger: customers grouped by their first paid month (month 0), and for each later
month N, how many of them still pay at its end and how much (DOMAIN.md, "Cohorts").

A customer's cohort is the month of its first ledger row (the ``new`` movement: its first month-end MRR above
zero; a trial that never paid is in no cohort). Its slice is fixed at month 0, for the whole row, so that a
reassignment does not move a customer from one row's cells to another's: the owner on the cohort's first day
(its first owner if it arrived later in that month, the rule of ``portfolio.ledger.owner_at``) and the segment,
plan and service model of that first row. A customer that churns and comes back counts again from the month it
pays again, in its own cohort (a reactivation never starts a new one).

Computed twice, as the rollups are: in SQL, one INSERT … SELECT into :class:`metrics.models.CohortCell` (the
page reads those cells), and in Python straight from the ledger rows (:func:`cells_from_history`, what
``metrics_rebuild --check`` and the tests compare the SQL with, and what the embedded SQLite run uses).

The cells summed per owner (:class:`metrics.models.CohortOwnerCell`) serve the tables without a segment, plan or
service model filter, and each customer's cohort and slice (:class:`metrics.models.CohortMember`) the drill-down
of a cell; both are written with the cells and checked with them.

A cell of month M depends on the ledger up to M only, so a change from month M on rebuilds the cells of months
M and later (``since``).
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction

from metrics.facts import LedgerHistory
from metrics.figures import ratio
from metrics.models import CohortCell, CohortMember, CohortOwnerCell
from metrics.periods import months_apart
from portfolio.ledger import add_months, owner_at

MAX_AGE = 23  # months after month 0: 24 columns
LOCK_KEY = 0x4C454D45_43  # "LEMEC": the cohort cells' advisory lock
SLICE = ("owner_id", "segment", "plan_tier", "service_model")

# Each customer of a cohort with its slice at month 0. Parameters: tz.
MEMBERS_SQL = """
WITH firsts AS (
    SELECT DISTINCT ON (customer_id) customer_id, month AS cohort, segment, plan_tier, service_model
    FROM portfolio_mrrmovement
    ORDER BY customer_id, month
),
owner_then AS (
    SELECT DISTINCT ON (f.customer_id) f.customer_id, op.owner_id
    FROM firsts f
    JOIN portfolio_ownershipperiod op ON op.customer_id = f.customer_id
    WHERE (op.started_at AT TIME ZONE %(tz)s)::date <= f.cohort
      AND (op.ended_at IS NULL OR (op.ended_at AT TIME ZONE %(tz)s)::date > f.cohort)
    ORDER BY f.customer_id, op.started_at, op.id
),
owner_first AS (
    SELECT DISTINCT ON (customer_id) customer_id, owner_id, (started_at AT TIME ZONE %(tz)s)::date AS started_on
    FROM portfolio_ownershipperiod
    ORDER BY customer_id, started_at, id
)
SELECT f.customer_id, f.cohort, f.segment, f.plan_tier, f.service_model,
       COALESCE(ot.owner_id, CASE WHEN ofi.started_on > f.cohort THEN ofi.owner_id END, c.owner_id) AS owner_id
FROM firsts f
JOIN portfolio_customer c ON c.id = f.customer_id
LEFT JOIN owner_then ot ON ot.customer_id = f.customer_id
LEFT JOIN owner_first ofi ON ofi.customer_id = f.customer_id
"""

# The cells of months ``since`` to ``last``, per cohort, age and slice. Each ledger row holds the customer's
# month-end MRR from its month until the month before its next row: a span of months, expanded by
# generate_series only where the customer pays and only up to 23 months after its cohort.
CELLS_SQL = f"""
WITH members AS ({MEMBERS_SQL}),
spans AS (
    SELECT customer_id, month, mrr_end_cents,
           LEAD(month) OVER (PARTITION BY customer_id ORDER BY month) AS next_month
    FROM portfolio_mrrmovement
),
paying AS (
    SELECT m.customer_id, m.cohort, m.owner_id, m.segment, m.plan_tier, m.service_model,
           g.month::date AS month, s.mrr_end_cents
    FROM members m
    JOIN spans s ON s.customer_id = m.customer_id AND s.mrr_end_cents > 0
    CROSS JOIN LATERAL generate_series(
        GREATEST(s.month, %(since)s::date),
        LEAST(COALESCE(s.next_month - interval '1 month', %(last)s::date), %(last)s::date,
              m.cohort + interval '{MAX_AGE} months'),
        interval '1 month'
    ) AS g(month)
)
SELECT cohort, month,
       ((EXTRACT(YEAR FROM month) - EXTRACT(YEAR FROM cohort)) * 12
        + EXTRACT(MONTH FROM month) - EXTRACT(MONTH FROM cohort))::int AS age,
       {", ".join(SLICE)}, COUNT(*) AS customers, SUM(mrr_end_cents) AS mrr_cents
FROM paying
GROUP BY cohort, month, {", ".join(SLICE)}
"""  # noqa: S608 - built from constants; values travel as parameters

# Each customer's cohort and slice at month 0, kept in step with the ledger: only the rows that changed are
# written, and customers no longer in the ledger leave.
MEMBERS_UPSERT_SQL = f"""
INSERT INTO metrics_cohortmember (customer_id, cohort, {", ".join(SLICE)})
SELECT customer_id, cohort, {", ".join(SLICE)} FROM ({MEMBERS_SQL}) AS m
ON CONFLICT (customer_id) DO UPDATE SET
    cohort = EXCLUDED.cohort, {", ".join(f"{name} = EXCLUDED.{name}" for name in SLICE)}
WHERE (metrics_cohortmember.cohort, {", ".join(f"metrics_cohortmember.{name}" for name in SLICE)})
      IS DISTINCT FROM (EXCLUDED.cohort, {", ".join(f"EXCLUDED.{name}" for name in SLICE)})
"""  # noqa: S608 - built from constants; values travel as parameters
MEMBERS_GONE_SQL = """
DELETE FROM metrics_cohortmember m
WHERE NOT EXISTS (SELECT 1 FROM portfolio_mrrmovement l WHERE l.customer_id = m.customer_id)
"""

# The owners' cells: the slices' cells of months ``since`` on, summed per owner.
OWNER_CELLS_SQL = """
INSERT INTO metrics_cohortownercell (cohort, month, age, owner_id, customers, mrr_cents)
SELECT cohort, month, age, owner_id, SUM(customers), SUM(mrr_cents)
FROM metrics_cohortcell
WHERE month >= %(since)s
GROUP BY cohort, month, age, owner_id
"""

INSERT_SQL = f"""
INSERT INTO metrics_cohortcell (cohort, month, age, {", ".join(SLICE)}, customers, mrr_cents)
{CELLS_SQL}
"""


@dataclass(frozen=True)
class Member:
    customer_id: int
    cohort: date
    owner_id: int | None
    segment: str
    plan_tier: str
    service_model: str

    @property
    def slice(self) -> tuple:
        return (self.owner_id, self.segment, self.plan_tier, self.service_model)

    @staticmethod
    def fields() -> list[str]:
        return ["customer_id", "cohort", *SLICE]


def members_from_history(history: LedgerHistory) -> dict[int, Member]:
    """Every customer in a cohort, with its slice at month 0 (the Python reference of ``MEMBERS_SQL``)."""
    members = {}
    for customer_id, rows in history.rows.items():
        first = rows[0]
        owner = owner_at(history.customers[customer_id], history.periods.get(customer_id, []), first.month)
        members[customer_id] = Member(
            customer_id, first.month, owner, first.segment, first.plan_tier, first.service_model
        )
    return members


# (cohort, age, owner, segment, plan, model) → (customers, MRR in cents)
Cells = dict[tuple, tuple[int, int]]


def cells_from_history(history: LedgerHistory, *, last: date, since: date | None = None) -> Cells:
    """The cells of months ``since`` (all without it) to ``last``, from the ledger rows in Python."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for customer_id, member in members_from_history(history).items():
        rows, months = history.rows[customer_id], history.months[customer_id]
        for age in range(MAX_AGE + 1):
            month = add_months(member.cohort, age)
            if month > last:
                break
            if since is not None and month < since:
                continue
            mrr = rows[bisect_right(months, month) - 1].mrr_end_cents
            if mrr > 0:
                acc = sums[(member.cohort, age, *member.slice)]
                acc[0] += 1
                acc[1] += mrr
    return {key: (customers, mrr) for key, (customers, mrr) in sums.items()}


def per_owner(cells: Cells) -> dict[tuple, tuple[int, int]]:
    """(cohort, age, owner) → (customers, MRR): the cells summed over segment, plan and service model."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (cohort, age, owner_id, *_slice), (customers, mrr) in cells.items():
        acc = sums[(cohort, age, owner_id)]
        acc[0] += customers
        acc[1] += mrr
    return {key: (customers, mrr) for key, (customers, mrr) in sums.items()}


def stored_cells(since: date | None = None) -> Cells:
    rows = CohortCell.objects.all()
    if since is not None:
        rows = rows.filter(month__gte=since)
    values = rows.values_list("cohort", "age", *SLICE, "customers", "mrr_cents")
    return {tuple(row[:6]): (row[6], row[7]) for row in values}


def build(*, last: date, since: date | None = None, history: LedgerHistory | None = None) -> None:
    """Replace the cells of months ``since`` (all without it) to ``last``: one statement on PostgreSQL; elsewhere
    the same cells computed in Python from the ledger, which ``check`` proves equal."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A refresh after a change and the nightly rebuild never interleave their deletes and inserts.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        for model in (CohortCell, CohortOwnerCell):
            stale = model.objects.all() if since is None else model.objects.filter(month__gte=since)
            stale.delete()
        if connection.vendor != "postgresql":
            history = history or LedgerHistory()
            CohortMember.objects.all().delete()
            CohortMember.objects.bulk_create(
                (CohortMember(**vars(member)) for member in members_from_history(history).values()), batch_size=1000
            )
            cells = cells_from_history(history, last=last, since=since)
            CohortCell.objects.bulk_create(
                CohortCell(
                    cohort=key[0],
                    month=add_months(key[0], key[1]),
                    age=key[1],
                    **dict(zip(SLICE, key[2:], strict=True)),
                    customers=customers,
                    mrr_cents=mrr,
                )
                for key, (customers, mrr) in cells.items()
            )
            CohortOwnerCell.objects.bulk_create(
                CohortOwnerCell(cohort=key[0], month=add_months(key[0], key[1]), age=key[1], owner_id=key[2],
                                customers=customers, mrr_cents=mrr)
                for key, (customers, mrr) in per_owner(cells).items()
            )  # fmt: skip
            return
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(INSERT_SQL, {"tz": settings.TIME_ZONE, "last": last, "since": since or date(1900, 1, 1)})
            cursor.execute(OWNER_CELLS_SQL, {"since": since or date(1900, 1, 1)})
            cursor.execute(MEMBERS_UPSERT_SQL, {"tz": settings.TIME_ZONE})
            cursor.execute(MEMBERS_GONE_SQL)


def check(*, last: date, history: LedgerHistory) -> list[str]:
    """The stored cells and cohort members against the ledger in Python: one line per difference."""
    expected, stored = cells_from_history(history, last=last), stored_cells()
    members = members_from_history(history)
    kept = {m.customer_id: m for m in (Member(**row) for row in CohortMember.objects.values(*Member.fields()))}
    differences = [
        f"customer {c}: ledger {members.get(c)} ≠ cohort member {kept.get(c)}"
        for c in sorted(set(members) | set(kept))
        if members.get(c) != kept.get(c)
    ]
    owners = per_owner(expected)
    stored_owners = {
        tuple(row[:3]): (row[3], row[4])
        for row in CohortOwnerCell.objects.values_list("cohort", "age", "owner_id", "customers", "mrr_cents")
    }
    differences += [
        f"cohort {key[0]:%Y-%m} +{key[1]} owner {key[2]}: ledger {owners.get(key)} ≠ owner's {stored_owners.get(key)}"
        for key in sorted(set(owners) | set(stored_owners), key=str)
        if owners.get(key) != stored_owners.get(key)
    ]
    for key in sorted(set(expected) | set(stored), key=str):
        if expected.get(key) != stored.get(key):
            label = f"cohort {key[0]:%Y-%m} +{key[1]} {key[2:]}"
            differences.append(f"{label}: ledger {expected.get(key)} ≠ cells {stored.get(key)}")
    return differences


# --- The grid the page shows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortValue:
    """One cell: customers still paying and their MRR, with the shares of month 0 (``None`` when the cohort is
    empty)."""

    month: date
    age: int
    customers: int
    mrr_cents: int
    logo_retention: Decimal | None
    mrr_retention: Decimal | None


@dataclass
class CohortRow:
    cohort: date
    customers: int  # month 0
    mrr_cents: int  # month 0
    cells: list[CohortValue]

    @property
    def empty(self) -> bool:
        return self.customers == 0


@dataclass
class CohortGrid:
    last: date  # the last month shown
    ages: list[int]
    rows: list[CohortRow]


def grid(sums: dict[tuple[date, int], tuple[int, int]], *, last: date, first: date | None = None) -> CohortGrid:
    """The table of the 24 cohorts ending with ``last`` (from ``first``, the earliest cohort there is, when it is
    later), each with its months up to ``last``, from summed cells {(cohort, age): (customers, MRR)}. A month
    with no paying customer left is 0, not missing; an empty cohort has no rates."""
    start = add_months(last, -MAX_AGE)
    if first is not None:
        start = max(start, first)
    rows = []
    cohort = start
    while cohort <= last:
        size, mrr0 = sums.get((cohort, 0), (0, 0))
        cells = []
        for age in range(months_apart(cohort, last) + 1):
            customers, mrr = sums.get((cohort, age), (0, 0))
            cells.append(
                CohortValue(add_months(cohort, age), age, customers, mrr, ratio(customers, size), ratio(mrr, mrr0))
            )
        rows.append(CohortRow(cohort, size, mrr0, cells))
        cohort = add_months(cohort, 1)
    return CohortGrid(last=last, ages=list(range(min(MAX_AGE, months_apart(start, last)) + 1)), rows=rows)
