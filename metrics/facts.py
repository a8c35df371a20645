"""Each customer's part in a period, computed twice: in SQL (what the rollups and drill-downs use) and in
Python straight from the ledger rows (what ``metrics_rebuild --check`` and the tests compare it with).

For a period from month A to month B, a customer's facts are:

* MRR at the start (its ledger's month-end MRR of the month before A) and at the end (of month B);
* the sum of each kind of movement in months A..B;
* whether it churned in the period (a churn movement), and the kind of that churn: voluntary or
  involuntary from the churn request that ended it (the latest one asked on or before the end of the month
  of its last churn, resolved as churned, or whose UTI stay ended in churn), or none recorded;
* its slice at the start of the period: the owner on A's first day by its ownership periods (the rule of
  ``portfolio.ledger.owner_at``), and the segment, plan and service model of its latest ledger row up to A
  (or of its first row in the period, for a customer that arrives during it). The ledger is the only
  history of those attributes.

Customers with no MRR at the start and no movement in the period take no part and are left out.
"""

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from metrics.figures import Totals
from metrics.periods import Period
from portfolio.ledger import month_end, owner_at
from portfolio.models import ChurnOutcome, ChurnRequest, Customer, MovementKind, MrrMovement, OwnershipPeriod, UtiExit

KINDS = [
    MovementKind.NEW,
    MovementKind.EXPANSION,
    MovementKind.REACTIVATION,
    MovementKind.CONTRACTION,
    MovementKind.CHURN,
]
SLICE = ("owner_id", "segment", "plan_tier", "service_model")

FACTS_SQL = f"""
WITH in_period AS (
    SELECT customer_id,
           {", ".join(f"COALESCE(SUM(amount_cents) FILTER (WHERE kind = '{k}'), 0) AS {k}_cents" for k in KINDS)},
           MAX(month) FILTER (WHERE kind = 'churn') AS last_churn_month,
           (ARRAY_AGG(mrr_end_cents ORDER BY month DESC))[1] AS mrr_end_cents
    FROM portfolio_mrrmovement
    WHERE month >= %(start)s AND month <= %(end)s
    GROUP BY customer_id
),
before AS (
    SELECT DISTINCT ON (customer_id) customer_id, mrr_end_cents
    FROM portfolio_mrrmovement
    WHERE month < %(start)s
      -- A drill-down into movements needs only the customers that moved.
      AND (NOT %(moved_only)s OR customer_id IN (SELECT customer_id FROM in_period))
    ORDER BY customer_id, month DESC
),
customer_period AS (
    SELECT COALESCE(i.customer_id, b.customer_id) AS customer_id,
           COALESCE(b.mrr_end_cents, 0) AS mrr_start_cents,
           COALESCE(i.mrr_end_cents, b.mrr_end_cents, 0) AS mrr_end_cents,
           {", ".join(f"COALESCE(i.{k}_cents, 0) AS {k}_cents" for k in KINDS)},
           i.last_churn_month
    FROM in_period i
    FULL OUTER JOIN (SELECT * FROM before WHERE mrr_end_cents > 0) b ON b.customer_id = i.customer_id
),
-- Each customer's slice and churn kind, set-based (one pass over each table, joined by hash).
attrs AS (
    SELECT DISTINCT ON (customer_id) customer_id, segment, plan_tier, service_model
    FROM portfolio_mrrmovement
    WHERE month <= %(end)s
    ORDER BY customer_id, month > %(start)s, abs(month - %(start)s::date)
),
owner_then AS (
    SELECT DISTINCT ON (customer_id) customer_id, owner_id
    FROM portfolio_ownershipperiod
    WHERE (started_at AT TIME ZONE %(tz)s)::date <= %(start)s
      AND (ended_at IS NULL OR (ended_at AT TIME ZONE %(tz)s)::date > %(start)s)
    ORDER BY customer_id, started_at, id
),
owner_first AS (
    SELECT DISTINCT ON (customer_id) customer_id, owner_id, (started_at AT TIME ZONE %(tz)s)::date AS started_on
    FROM portfolio_ownershipperiod
    ORDER BY customer_id, started_at, id
),
churn_kind AS (
    SELECT DISTINCT ON (cp.customer_id) cp.customer_id, r.kind, r.reason_id
    FROM customer_period cp
    JOIN portfolio_churnrequest r
      ON r.customer_id = cp.customer_id AND r.requested_on < cp.last_churn_month + interval '1 month'
    WHERE cp.last_churn_month IS NOT NULL
      AND (r.outcome = '{ChurnOutcome.CHURNED}' OR EXISTS (
          SELECT 1 FROM portfolio_utistay u WHERE u.churn_request_id = r.id AND u.exit = '{UtiExit.CHURNED}'
      ))
    ORDER BY cp.customer_id, r.requested_on DESC, r.id DESC
)
SELECT cp.*,
       COALESCE(
           op_now.owner_id,
           CASE WHEN op_first.started_on > %(start)s THEN op_first.owner_id END,
           c.owner_id
       ) AS owner_id,
       attrs.segment, attrs.plan_tier, attrs.service_model,
       CASE WHEN cp.last_churn_month IS NULL THEN '' ELSE COALESCE(ck.kind, '') END AS churn_kind,
       CASE WHEN cp.last_churn_month IS NULL THEN NULL ELSE ck.reason_id END AS churn_reason_id
FROM customer_period cp
JOIN portfolio_customer c ON c.id = cp.customer_id
JOIN attrs ON attrs.customer_id = cp.customer_id
LEFT JOIN owner_then op_now ON op_now.customer_id = cp.customer_id
LEFT JOIN owner_first op_first ON op_first.customer_id = cp.customer_id
LEFT JOIN churn_kind ck ON ck.customer_id = cp.customer_id
"""  # noqa: S608 - built from constants; values travel as parameters

# The totals of a set of customers' facts, in SQL (the same sums as CustomerFacts.totals()).
TOTALS_SQL = {
    "customers_start": "COUNT(*) FILTER (WHERE mrr_start_cents > 0)",
    "mrr_start_cents": "COALESCE(SUM(mrr_start_cents), 0)",
    "customers_end": "COUNT(*) FILTER (WHERE mrr_end_cents > 0)",
    "mrr_end_cents": "COALESCE(SUM(mrr_end_cents), 0)",
    **{f"{k}_cents": f"COALESCE(SUM({k}_cents), 0)" for k in KINDS},
    **{f"{k}_customers": f"COUNT(*) FILTER (WHERE {k}_cents > 0)" for k in KINDS},
    "churned_customers": "COUNT(*) FILTER (WHERE mrr_start_cents > 0 AND last_churn_month IS NOT NULL)",
    "voluntary_churned": (
        "COUNT(*) FILTER (WHERE mrr_start_cents > 0 AND last_churn_month IS NOT NULL AND churn_kind = 'voluntary')"
    ),
    "involuntary_churned": (
        "COUNT(*) FILTER (WHERE mrr_start_cents > 0 AND last_churn_month IS NOT NULL AND churn_kind = 'involuntary')"
    ),
    "voluntary_churn_cents": "COALESCE(SUM(churn_cents) FILTER (WHERE churn_kind = 'voluntary'), 0)",
    "involuntary_churn_cents": "COALESCE(SUM(churn_cents) FILTER (WHERE churn_kind = 'involuntary'), 0)",
    "joined_and_churned": "COUNT(*) FILTER (WHERE mrr_start_cents = 0 AND last_churn_month IS NOT NULL)",
    "retained_mrr_cents": (
        "COALESCE(SUM(LEAST(mrr_start_cents, mrr_end_cents)) FILTER (WHERE mrr_start_cents > 0), 0)"
    ),
    "start_customers_mrr_end_cents": "COALESCE(SUM(mrr_end_cents) FILTER (WHERE mrr_start_cents > 0), 0)",
}
assert list(TOTALS_SQL) == Totals.names()  # noqa: S101 - a definition error, caught at import


def sql_params(period: Period, *, moved_only: bool = False) -> dict:
    """The facts query's parameters; ``moved_only`` leaves out the customers without a movement in the period
    (for a drill-down into movements, which never lists them)."""
    return {"start": period.start, "end": period.end, "tz": settings.TIME_ZONE, "moved_only": moved_only}


def tune_for_facts(cursor) -> None:
    """Inside a transaction: the facts query sorts the whole ledger a few times; give the sorts memory, and
    skip JIT compilation, which costs more than it saves on a query this size."""
    cursor.execute("SET LOCAL work_mem = '64MB'")
    cursor.execute("SET LOCAL jit = off")


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: int
    owner_id: int | None
    segment: str
    plan_tier: str
    service_model: str
    mrr_start_cents: int
    mrr_end_cents: int
    new_cents: int = 0
    expansion_cents: int = 0
    reactivation_cents: int = 0
    contraction_cents: int = 0
    churn_cents: int = 0
    churned_in_period: bool = False
    last_churn_month: date | None = None
    churn_kind: str = ""
    churn_reason_id: int | None = None  # the reason of the churn request that ended it, if any

    @property
    def slice(self) -> tuple:
        return (self.owner_id, self.segment, self.plan_tier, self.service_model)

    def totals(self) -> Totals:
        return Totals(*self.totals_tuple())

    def totals_tuple(self) -> tuple[int, ...]:
        """This customer's part of each of :class:`Totals`' sums, in their order."""
        at_start = self.mrr_start_cents > 0
        churned = at_start and self.churned_in_period
        voluntary, involuntary = self.churn_kind == "voluntary", self.churn_kind == "involuntary"
        moved = [getattr(self, f"{k}_cents") for k in KINDS]
        return (
            int(at_start),
            self.mrr_start_cents,
            int(self.mrr_end_cents > 0),
            self.mrr_end_cents,
            *moved,
            *[int(cents > 0) for cents in moved],
            int(churned),
            int(churned and voluntary),
            int(churned and involuntary),
            self.churn_cents if voluntary else 0,
            self.churn_cents if involuntary else 0,
            int(not at_start and self.churned_in_period),
            min(self.mrr_start_cents, self.mrr_end_cents) if at_start else 0,
            self.mrr_end_cents if at_start else 0,
        )


def facts_sql(period: Period, *, moved_only: bool = False) -> list[CustomerFacts]:
    """The customers' facts for ``period``, computed by the database (the rollups' query); on a database
    without PostgreSQL's SQL (the embedded SQLite run), by the Python reference."""
    if connection.vendor != "postgresql":
        facts = LedgerHistory().facts(period)
        if moved_only:
            facts = [f for f in facts if any(getattr(f, f"{kind}_cents") for kind in KINDS)]
        return facts
    with transaction.atomic(), connection.cursor() as cursor:
        tune_for_facts(cursor)
        cursor.execute(FACTS_SQL, sql_params(period, moved_only=moved_only))
        names = [c.name for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return [
        CustomerFacts(
            customer_id=r["customer_id"],
            owner_id=r["owner_id"],
            segment=r["segment"],
            plan_tier=r["plan_tier"],
            service_model=r["service_model"],
            mrr_start_cents=int(r["mrr_start_cents"]),
            mrr_end_cents=int(r["mrr_end_cents"]),
            **{f"{k}_cents": int(r[f"{k}_cents"]) for k in KINDS},
            churned_in_period=r["last_churn_month"] is not None,
            last_churn_month=r["last_churn_month"],
            churn_kind=r["churn_kind"],
            churn_reason_id=r["churn_reason_id"],
        )
        for r in rows
    ]


class LedgerHistory:
    """The whole ledger in memory, read once, and each period's facts computed from it in Python: the
    reference the SQL is checked against. Reads the rows, the ownership periods and the churn requests."""

    def __init__(self) -> None:
        # Named tuples rather than model instances: the same attributes, a fraction of the cost on 50,000 customers.
        self.rows: dict[int, list] = defaultdict(list)
        movements = MrrMovement.objects.order_by("customer_id", "month").values_list(
            "customer_id", "month", "kind", "amount_cents", "mrr_end_cents", "segment", "plan_tier", "service_model",
            named=True,
        )  # fmt: skip
        for row in movements.iterator(chunk_size=5000):
            self.rows[row.customer_id].append(row)
        self.months = {customer_id: [r.month for r in rows] for customer_id, rows in self.rows.items()}
        self.customers = {c.pk: c for c in Customer.objects.values_list("pk", "owner_id", named=True)}
        self.periods: dict[int, list] = defaultdict(list)
        ownership = OwnershipPeriod.objects.order_by("customer_id", "started_at", "pk").values_list(
            "customer_id", "owner_id", "started_at", "ended_at", named=True
        )
        for period in ownership.iterator(chunk_size=5000):
            self.periods[period.customer_id].append(period)
        ended_in_churn = Q(outcome=ChurnOutcome.CHURNED) | Q(uti_stay__exit=UtiExit.CHURNED)
        self.requests: dict[int, list[ChurnRequest]] = defaultdict(list)
        for request in ChurnRequest.objects.filter(ended_in_churn).order_by("requested_on", "pk"):
            self.requests[request.customer_id].append(request)

    @property
    def first_month(self) -> date | None:
        return min((rows[0].month for rows in self.rows.values()), default=None)

    def churn_request(self, customer_id: int, month: date) -> ChurnRequest | None:
        """The churn request that ended a churn in ``month``: the latest asked by the month's end."""
        last_day = month_end(month)
        asked = [r for r in self.requests.get(customer_id, []) if r.requested_on <= last_day]
        return asked[-1] if asked else None

    def churn_kind(self, customer_id: int, month: date) -> str:
        request = self.churn_request(customer_id, month)
        return request.kind if request else ""

    def facts(self, period: Period) -> list[CustomerFacts]:
        result = []
        for customer_id, rows in self.rows.items():
            months = self.months[customer_id]
            first_during = bisect_left(months, period.start)
            after_end = bisect_right(months, period.end)
            start = rows[first_during - 1].mrr_end_cents if first_during else 0
            during = rows[first_during:after_end]
            if start == 0 and not during:
                continue
            end = during[-1].mrr_end_cents if during else start
            upto_start = bisect_right(months, period.start)
            attrs = rows[upto_start - 1] if upto_start else during[0]
            sums = dict.fromkeys(KINDS, 0)
            last_churn = None
            for row in during:
                sums[row.kind] += row.amount_cents
                if row.kind == MovementKind.CHURN:
                    last_churn = row.month
            ended_by = self.churn_request(customer_id, last_churn) if last_churn else None
            result.append(
                CustomerFacts(
                    customer_id=customer_id,
                    owner_id=owner_at(self.customers[customer_id], self.periods.get(customer_id, []), period.start),
                    segment=attrs.segment,
                    plan_tier=attrs.plan_tier,
                    service_model=attrs.service_model,
                    mrr_start_cents=start,
                    mrr_end_cents=end,
                    **{f"{k}_cents": v for k, v in sums.items()},
                    churned_in_period=last_churn is not None,
                    last_churn_month=last_churn,
                    churn_kind=ended_by.kind if ended_by else "",
                    churn_reason_id=ended_by.reason_id if ended_by else None,
                )
            )
        return result


def churn_reasons_by_slice(facts: list[CustomerFacts]) -> dict[tuple, tuple[int, int]]:
    """The customers that churned in the period and their churned MRR, per slice, churn kind and reason (the
    Python reference of the churn reason rollups)."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for fact in facts:
        if fact.churned_in_period:
            acc = sums[(*fact.slice, fact.churn_kind, fact.churn_reason_id)]
            acc[0] += 1
            acc[1] += fact.churn_cents
    return {key: (customers, cents) for key, (customers, cents) in sums.items()}


def totals_by_slice(facts: list[CustomerFacts]) -> dict[tuple, Totals]:
    width = len(Totals.names())
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * width)
    for fact in facts:
        acc = sums[fact.slice]
        for i, value in enumerate(fact.totals_tuple()):
            acc[i] += value
    return {key: Totals(*values) for key, values in sums.items()}
