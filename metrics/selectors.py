"""What the metrics pages read: rollups scoped by the one door, and the customers behind a figure.

Scope: a rollup row belongs to the customers' owner at the start of its period, and
``accounts.access.visible_filter`` decides whose rows a person reads, exactly as it decides whose customers
they see: a CSM their own portfolio, a leader their teams', an admin everything (customers without an
owner included). The drill-down lists the customers of the same rows, so its MRR adds up to the figure.
"""

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DateField, ExpressionWrapper, F, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.access import can_read_unit_economics, sees_every_person, visible_filter
from accounts.models import OWNER_ROLES, User
from core import clock
from core.paging import Paged
from metrics import cohorts
from metrics.facts import CustomerFacts, LedgerHistory
from metrics.figures import Figure, Totals, acquisition, headline, ratio, unit_economics
from metrics.models import (
    ChurnReasonRollup,
    CohortCell,
    CohortOwnerCell,
    MetricsSettings,
    MonthlySpend,
    Rollup,
    RollupBuild,
)
from metrics.periods import Period, PeriodKind
from portfolio.ledger import add_months, month_end, month_start
from portfolio.models import (
    BILLING_MONTHS,
    ChurnOutcome,
    ChurnRequest,
    Customer,
    MrrMovement,
    Subscription,
    SubscriptionStatus,
    UtiExit,
    UtiStay,
)

SUMS = {name: Sum(name) for name in Totals.names()}


@dataclass(frozen=True)
class MetricsFilters:
    """The slices a page narrows to; empty means all."""

    owner: int | None = None
    segment: str = ""
    service_model: str = ""
    plan_tier: str = ""

    def rollup_q(self, *, prefix: str = "", owner: str = "owner_id") -> Q:
        """The filters on a row whose slice fields are at ``prefix`` (e.g. ``customer__``) and whose person is
        ``owner`` (e.g. ``csm_id`` on a survey answer)."""
        q = Q()
        if self.owner is not None:
            q &= Q(**{f"{prefix}{owner}": self.owner})
        for name in ("segment", "service_model", "plan_tier"):
            if getattr(self, name):
                q &= Q(**{f"{prefix}{name}": getattr(self, name)})
        return q


def current_month() -> date:
    return month_start(clock.today())


def sees_every_csm(user: User) -> bool:
    """Leaders, admins and viewers compare CSMs; a CSM sees their own row against the team's median (the rule
    is ``accounts.access.sees_every_person``)."""
    return sees_every_person(user)


def rollups_visible_to(user: User) -> QuerySet[Rollup]:
    return Rollup.objects.filter(visible_filter(user, people=("owner",)))


def metric_owners_visible_to(user: User) -> QuerySet[User]:
    """The people whose portfolios ``user`` may read metrics of (the door, applied to the owners themselves)."""
    return User.objects.filter(visible_filter(user, people=("id",)), role__in=OWNER_ROLES).order_by("full_name")


def _period_q(period: Period) -> Q:
    return Q(period_start=period.start, period_end=period.end)


def months_from(first: date, last: date) -> list[date]:
    return Period(PeriodKind.MONTH, first, last).month_list()


def trailing_year(end: date) -> Period:
    return Period(PeriodKind.TRAILING, add_months(end, -11), end)


def last_complete_month(period: Period) -> date:
    return period.end if period.end < current_month() else add_months(period.end, -1)


CHART_MONTHS = 12


@dataclass
class Overview:
    period: Period
    previous: Period
    figures: dict[str, Figure]
    previous_figures: dict[str, Figure]
    totals: Totals
    months: list[tuple[date, Totals]]
    built_at: object = None
    empty: bool = False
    # The charts' months: the period's, and at least the twelve months ending with its last.
    chart_months: list[tuple[date, Totals]] = field(default_factory=list)


def _with_trailing_nrr(figures: dict[str, Figure], trailing: Totals) -> dict[str, Figure]:
    nrr = headline(trailing, months=12)["nrr"]
    figures["nrr_t12m"] = Figure("nrr_t12m", nrr.value, nrr.unit, nrr.why)
    return figures


def _unit_economics(
    figures: dict[str, Figure], monthly: dict[date, Totals], period: Period, gross_margin: Decimal = Decimal(1)
) -> dict[str, Figure]:
    last = last_complete_month(period)
    six = [monthly.get(add_months(last, -i), Totals()) for i in range(5, -1, -1)]
    figures.update(unit_economics(arpa_cents=figures["arpa"].value, monthly_totals=six, gross_margin=gross_margin))
    return figures


def gross_margin() -> Decimal:
    """The workspace's gross margin as a fraction (0.8 is 80 %); 1 until an admin sets it."""
    percent = MetricsSettings.objects.filter(pk=1).values_list("gross_margin_percent", flat=True).first()
    return Decimal(1) if percent is None else Decimal(percent) / 100


def metrics_overview(user: User, period: Period, filters: MetricsFilters, *, margin: Decimal | None = None) -> Overview:
    """The headline figures of ``period`` and of the period before, and the movements of each month, from
    the rollups the user may read: three queries whatever the number of customers (four without ``margin``,
    the gross margin, read then)."""
    margin = gross_margin() if margin is None else margin
    previous = period.previous()
    scoped = rollups_visible_to(user).filter(filters.rollup_q())
    wanted = [period, previous, trailing_year(period.end), trailing_year(previous.end)]
    by_range: dict[tuple[date, date], Totals] = {}
    rows = (
        scoped.filter(Q(*[_period_q(p) for p in wanted], _connector=Q.OR))
        .values("period_start", "period_end")
        .annotate(**SUMS)
        .order_by()
    )
    for row in rows:
        by_range[(row["period_start"], row["period_end"])] = Totals.of(row)

    def totals_of(p: Period) -> Totals:
        return by_range.get((p.start, p.end), Totals())

    chart_start = min(period.start, add_months(period.end, -(CHART_MONTHS - 1)))
    first_month = min(chart_start, add_months(last_complete_month(period), -5), add_months(previous.end, -5))
    months = scoped.filter(period_start=F("period_end"), period_start__gte=first_month, period_end__lte=period.end)
    monthly = {row["period_start"]: Totals.of(row) for row in months.values("period_start").annotate(**SUMS).order_by()}
    current = totals_of(period)
    figures = headline(current, months=period.months)
    _with_trailing_nrr(figures, totals_of(trailing_year(period.end)))
    _unit_economics(figures, monthly, period, margin)
    before = headline(totals_of(previous), months=previous.months)
    _with_trailing_nrr(before, totals_of(trailing_year(previous.end)))
    _unit_economics(before, monthly, previous, margin)
    build = RollupBuild.objects.filter(pk=1).values_list("built_at", flat=True).first()
    return Overview(
        period=period,
        previous=previous,
        figures=figures,
        previous_figures=before,
        totals=current,
        months=[(month, monthly.get(month, Totals())) for month in period.month_list()],
        built_at=build,
        empty=not by_range and not monthly,
        chart_months=[(month, monthly.get(month, Totals())) for month in months_from(chart_start, period.end)],
    )


# --- Unit economics: CAC, LTV:CAC, CAC payback (whole workspace) ---------------------------------------------

# A subscription that pays: no trial, no one-off charge, an amount, and at least one day in force.
PAID = (
    Q(is_trial=False, amount_cents__gt=0, billing_period__in=list(BILLING_MONTHS))
    & ~Q(status=SubscriptionStatus.TRIAL)
    & (Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")))
)


@dataclass
class UnitEconomics:
    """The period's acquisition figures for the whole workspace (the spend is entered per workspace month), with
    the previous period's, and the months whose spend is missing."""

    period: Period
    previous: Period
    figures: dict[str, Figure]
    previous_figures: dict[str, Figure]
    spend: list[MonthlySpend]  # the period's months that have one


def spend_months() -> QuerySet[MonthlySpend]:
    """Every month's spend entered, oldest first, with who entered it."""
    return MonthlySpend.objects.select_related("entered_by").order_by("month")


def new_customers_by_first_paid_day(periods: list[Period]) -> list[int]:
    """For each period, the customers whose first paid day falls in it (one query): the new customers CAC
    divides by, including those who joined and churned within a month, whom the month-end ledger never sees."""
    firsts = Subscription.objects.filter(PAID).values("customer_id").annotate(first=Min("start_date")).order_by()
    counts = firsts.aggregate(
        **{
            f"p{i}": Count("customer_id", filter=Q(first__gte=p.start, first__lte=month_end(p.end)))
            for i, p in enumerate(periods)
        }
    )
    return [counts[f"p{i}"] for i in range(len(periods))]


def unit_economics_of(user: User, period: Period, *, margin: Decimal | None = None) -> UnitEconomics | None:
    """CAC, LTV:CAC and CAC payback of ``period`` and the one before, for the whole workspace: its spend, its new
    customers, and its ARPA and LTV (every customer, whatever the page's filters: the spend belongs to no team).
    None for those who do not read them (``accounts.access.can_read_unit_economics``). Four queries, five
    without ``margin``."""
    if not can_read_unit_economics(user):
        return None
    margin = gross_margin() if margin is None else margin
    previous = period.previous()
    everything = Rollup.objects.all()
    rows = (
        everything.filter(Q(_period_q(period)) | Q(_period_q(previous)))
        .values("period_start", "period_end")
        .annotate(**SUMS)
        .order_by()
    )
    by_range = {(row["period_start"], row["period_end"]): Totals.of(row) for row in rows}
    first_month = add_months(last_complete_month(previous), -5)
    monthly = {
        row["period_start"]: Totals.of(row)
        for row in everything.filter(
            period_start=F("period_end"), period_start__gte=first_month, period_end__lte=period.end
        )
        .values("period_start")
        .annotate(**SUMS)
        .order_by()
    }
    spend = {s.month: s for s in MonthlySpend.objects.filter(month__gte=previous.start, month__lte=period.end)}
    acquired = new_customers_by_first_paid_day([period, previous])

    def figures_of(p: Period, new_customers: int) -> dict[str, Figure]:
        figures = headline(by_range.get((p.start, p.end), Totals()), months=p.months)
        _unit_economics(figures, monthly, p, margin)
        months = p.month_list()
        missing = [formats.date_format(m, "M Y") for m in months if m not in spend]
        figures.update(
            acquisition(
                spend_cents=sum(spend[m].amount_cents for m in months if m in spend),
                missing_months=missing,
                new_customers=new_customers,
                arpa_cents=figures["arpa"].value,
                ltv_cents=figures["ltv"].value,
                gross_margin=margin,
            )
        )
        return figures

    return UnitEconomics(
        period=period,
        previous=previous,
        figures=figures_of(period, acquired[0]),
        previous_figures=figures_of(previous, acquired[1]),
        spend=[spend[m] for m in period.month_list() if m in spend],
    )


# --- Per CSM ---------------------------------------------------------------------------------------------

COMPARED = ("mrr", "paying", "logo_churn", "grr", "nrr", "expansion")


@dataclass
class CsmRow:
    owner_id: int | None
    name: str
    figures: dict[str, Figure]
    is_total: bool = False
    is_median: bool = False
    query: str = ""  # the page's state narrowed to this row, for its links

    @property
    def cells(self) -> list[tuple[str, Figure]]:
        """The compared figures, then those added after (``metrics.operations.extend_comparison``)."""
        return [(key, self.figures[key]) for key in [*COMPARED, *(k for k in self.figures if k not in COMPARED)]]

    @property
    def figure_list(self) -> list[Figure]:
        return [fig for _key, fig in self.cells]


@dataclass
class Comparison:
    rows: list[CsmRow] = field(default_factory=list)
    total: CsmRow | None = None
    median: CsmRow | None = None


def sorted_by(rows: list[CsmRow], key: str) -> list[CsmRow]:
    """Largest first; undefined figures last."""
    defined = [r for r in rows if r.figures[key].value is not None]
    undefined = [r for r in rows if r.figures[key].value is None]
    return sorted(defined, key=lambda r: r.figures[key].value, reverse=True) + undefined


def _per_owner(queryset: QuerySet[Rollup], period: Period) -> list[tuple[int | None, str, Totals]]:
    rows = (
        queryset.filter(_period_q(period))
        .values("owner_id", "owner__full_name")
        .annotate(**SUMS)
        .order_by("owner__full_name", "owner_id")
    )
    return [(row["owner_id"], row["owner__full_name"] or "", Totals.of(row)) for row in rows]


def _compared(totals: Totals, months: int) -> dict[str, Figure]:
    figures = headline(totals, months=months)
    return {key: figures[key] for key in COMPARED}


NO_TEAM_FIGURES = _("No CSM of your team has this figure for the period.")


def _median(rows: list[dict[str, Figure]]) -> dict[str, Figure]:
    result = {}
    for key in COMPARED:
        values = [r[key].value for r in rows if r[key].value is not None]
        value = statistics.median(values) if values else None
        if isinstance(value, float):  # the median of two integers
            value = Decimal(str(value))
        unit = rows[0][key].unit if rows else "count"
        result[key] = Figure(key, value, unit, "" if values else NO_TEAM_FIGURES)
    return result


def csm_comparison(user: User, period: Period, filters: MetricsFilters) -> Comparison:
    """One row per CSM (owner at the start of the period) with the team's total, for those who compare
    CSMs; a CSM gets their own row and the median of their team's CSMs, never another CSM's row."""
    if sees_every_csm(user):
        per_owner = _per_owner(rollups_visible_to(user).filter(filters.rollup_q()), period)
        rows = [CsmRow(owner_id, name, _compared(t, period.months)) for owner_id, name, t in per_owner]
        total = Totals.sum(t for _, _, t in per_owner)
        return Comparison(rows=rows, total=CsmRow(None, "", _compared(total, period.months), is_total=True))
    own_filters = MetricsFilters(
        owner=user.pk, segment=filters.segment, service_model=filters.service_model, plan_tier=filters.plan_tier
    )
    own = Totals.sum(
        Totals.of(r) for r in Rollup.objects.filter(_period_q(period), own_filters.rollup_q()).values(*Totals.names())
    )
    team = User.objects.filter(team_id=user.team_id, role__in=OWNER_ROLES) if user.team_id else User.objects.none()
    team_rollups = Rollup.objects.filter(owner__in=team.values("pk")).filter(
        MetricsFilters(
            segment=filters.segment, service_model=filters.service_model, plan_tier=filters.plan_tier
        ).rollup_q()
    )
    team_rows = [_compared(t, period.months) for _, _, t in _per_owner(team_rollups, period)]
    return Comparison(
        rows=[CsmRow(user.pk, user.full_name, _compared(own, period.months))],
        median=CsmRow(None, "", _median(team_rows), is_median=True),
    )


# --- Churn reasons ---------------------------------------------------------------------------------------


@dataclass
class ReasonRow:
    """One sub-reason (or "no churn request") with its churned customers and MRR, and the running share of the
    period's churned MRR down the table (Pareto)."""

    reason_id: int | None
    name: str
    kind: str
    customers: int
    churn_cents: int
    share: Decimal | None = None
    cumulative: Decimal | None = None


@dataclass
class ReasonCategory:
    category_id: int | None
    name: str
    customers: int
    churn_cents: int
    share: Decimal | None
    reasons: list[ReasonRow]


@dataclass
class ChurnReasons:
    categories: list[ReasonCategory]
    customers: int
    churn_cents: int
    voluntary_cents: int
    involuntary_cents: int


def churn_reasons(user: User, period: Period, filters: MetricsFilters) -> ChurnReasons:
    """The customers that churned in ``period`` and the MRR they took, by reason category and sub-reason, largest
    first, from the reason rollups the user may read (the door and the filters as the other rollups): one query.
    Customers that churned without a churn request form their own row."""
    english = (get_language() or "").startswith("en")
    rows = (
        ChurnReasonRollup.objects.filter(visible_filter(user, people=("owner",)))
        .filter(filters.rollup_q(), _period_q(period))
        .values(
            "kind", "reason_id", "reason__name_pt", "reason__name_en", "reason__category_id",
            "reason__category__name_pt", "reason__category__name_en",
        )
        .annotate(n=Sum("customers"), cents=Sum("churn_cents"))
        .order_by()
    )  # fmt: skip
    total = sum(int(r["cents"]) for r in rows)
    by_category: dict[int | None, ReasonCategory] = {}
    merged: dict[tuple, ReasonRow] = {}
    for r in rows:
        category_id = r["reason__category_id"]
        if category_id not in by_category:
            name = r["reason__category__name_en" if english else "reason__category__name_pt"] or str(NO_REQUEST)
            by_category[category_id] = ReasonCategory(category_id, name, 0, 0, None, [])
        key = (r["reason_id"], r["kind"])
        if key not in merged:
            name = r["reason__name_en" if english else "reason__name_pt"] or str(NO_REQUEST_REASON)
            merged[key] = ReasonRow(r["reason_id"], name, r["kind"], 0, 0)
            by_category[category_id].reasons.append(merged[key])
        merged[key].customers += int(r["n"])
        merged[key].churn_cents += int(r["cents"])
        by_category[category_id].customers += int(r["n"])
        by_category[category_id].churn_cents += int(r["cents"])
    categories = sorted(by_category.values(), key=lambda c: (-c.churn_cents, -c.customers, c.name))
    running = 0
    for category in categories:
        category.share = ratio(category.churn_cents, total)
        category.reasons.sort(key=lambda row: (-row.churn_cents, -row.customers, row.name))
        for row in category.reasons:
            running += row.churn_cents
            row.share, row.cumulative = ratio(row.churn_cents, total), ratio(running, total)
    kinds = {kind: sum(row.churn_cents for row in merged.values() if row.kind == kind) for kind in KIND_NAMES}
    return ChurnReasons(
        categories=categories,
        customers=sum(c.customers for c in categories),
        churn_cents=total,
        voluntary_cents=kinds["voluntary"],
        involuntary_cents=kinds["involuntary"],
    )


NO_REQUEST = _("No churn request")
NO_REQUEST_REASON = _("The subscription ended without a churn request")
KIND_NAMES = ("voluntary", "involuntary")


# --- Cohorts ---------------------------------------------------------------------------------------------


def cohort_table(user: User, last: date, filters: MetricsFilters) -> cohorts.CohortGrid:
    """The cohorts (*safras*) of the 24 months ending with ``last``, from the cohort cells the user may read (the
    door and the filters apply to each customer's slice at its month 0): one query."""
    first_cohort = add_months(last, -cohorts.MAX_AGE)
    # Without a segment, plan or service model filter, the cells summed per owner: a few rows a cell, not one a slice.
    sliced = any(getattr(filters, name) for name in SLICE_FILTERS)
    model = CohortCell if sliced else CohortOwnerCell
    cells = (
        model.objects.filter(visible_filter(user, people=("owner",)))
        .filter(filters.rollup_q(), cohort__gte=first_cohort, cohort__lte=last, month__lte=last)
        .values("cohort", "age")
        .annotate(customers=Sum("customers"), mrr=Sum("mrr_cents"))
        .order_by()
    )
    sums = {(row["cohort"], row["age"]): (int(row["customers"]), int(row["mrr"])) for row in cells}
    first = min((cohort for cohort, age in sums if age == 0), default=None)
    if first is None:
        return cohorts.CohortGrid(last=last, ages=[], rows=[])
    return cohorts.grid(sums, last=last, first=first)


# --- Drill-down ------------------------------------------------------------------------------------------

# The customers behind each figure, and the amount each contributes to it.
DRILLS: dict[str, tuple[str, str]] = {
    "mrr": ("mrr_end_cents > 0", "mrr_end_cents"),
    "paying": ("mrr_end_cents > 0", "mrr_end_cents"),
    "arr": ("mrr_end_cents > 0", "12 * mrr_end_cents"),
    "mrr_start": ("mrr_start_cents > 0", "mrr_start_cents"),
    "customers_start": ("mrr_start_cents > 0", "mrr_start_cents"),
    "net_new": ("mrr_end_cents <> mrr_start_cents", "mrr_end_cents - mrr_start_cents"),
    "new": ("new_cents > 0", "new_cents"),
    "expansion": ("expansion_cents > 0", "expansion_cents"),
    "reactivation": ("reactivation_cents > 0", "reactivation_cents"),
    "contraction": ("contraction_cents > 0", "contraction_cents"),
    "churn": ("churn_cents > 0", "churn_cents"),
    "gross_mrr_churn": ("churn_cents + contraction_cents > 0", "churn_cents + contraction_cents"),
    "net_mrr_churn": (
        "churn_cents + contraction_cents + expansion_cents + reactivation_cents > 0",
        "churn_cents + contraction_cents - expansion_cents - reactivation_cents",
    ),
    "arpa": ("mrr_end_cents > 0", "mrr_end_cents"),
    "churned": ("mrr_start_cents > 0 AND last_churn_month IS NOT NULL", "churn_cents"),
    "logo_churn": ("mrr_start_cents > 0 AND last_churn_month IS NOT NULL", "churn_cents"),
    "logo_churn_annualised": ("mrr_start_cents > 0 AND last_churn_month IS NOT NULL", "churn_cents"),
    "voluntary_churned": (
        "mrr_start_cents > 0 AND last_churn_month IS NOT NULL AND churn_kind = 'voluntary'",
        "churn_cents",
    ),
    "involuntary_churned": (
        "mrr_start_cents > 0 AND last_churn_month IS NOT NULL AND churn_kind = 'involuntary'",
        "churn_cents",
    ),
    "joined_and_churned": ("mrr_start_cents = 0 AND last_churn_month IS NOT NULL", "churn_cents"),
    "grr": ("mrr_start_cents > 0", "LEAST(mrr_start_cents, mrr_end_cents)"),
    "nrr": ("mrr_start_cents > 0", "mrr_end_cents"),
}


# The longest lists (every customer paying at the period's end, or at its start) are sorted by the column their amount
# grows with, so PostgreSQL reads a page of them in order from an index of that column (metrics 0008: the paying
# customers of each period, largest first) instead of sorting every paying customer of the period for each page.
SORTED_BY: dict[str, str] = {
    **dict.fromkeys(("mrr", "paying", "arr", "arpa"), "mrr_end_cents"),
    **dict.fromkeys(("mrr_start", "customers_start"), "mrr_start_cents"),
    "churn": "churn_cents",  # the customers lost in the period, largest first (metrics 0009)
}


def _started(f: CustomerFacts) -> bool:
    return f.mrr_start_cents > 0


def _lost(f: CustomerFacts) -> bool:
    return f.mrr_start_cents > 0 and f.churned_in_period


# The same conditions and amounts as DRILLS, over a customer's facts in Python: the drill-downs of a
# database without PostgreSQL's SQL (the embedded SQLite run). A test proves both give the same rows.
DRILLS_PY: dict[str, tuple[Callable[[CustomerFacts], bool], Callable[[CustomerFacts], int]]] = {
    "mrr": (lambda f: f.mrr_end_cents > 0, lambda f: f.mrr_end_cents),
    "paying": (lambda f: f.mrr_end_cents > 0, lambda f: f.mrr_end_cents),
    "arr": (lambda f: f.mrr_end_cents > 0, lambda f: 12 * f.mrr_end_cents),
    "mrr_start": (_started, lambda f: f.mrr_start_cents),
    "customers_start": (_started, lambda f: f.mrr_start_cents),
    "net_new": (lambda f: f.mrr_end_cents != f.mrr_start_cents, lambda f: f.mrr_end_cents - f.mrr_start_cents),
    "new": (lambda f: f.new_cents > 0, lambda f: f.new_cents),
    "expansion": (lambda f: f.expansion_cents > 0, lambda f: f.expansion_cents),
    "reactivation": (lambda f: f.reactivation_cents > 0, lambda f: f.reactivation_cents),
    "contraction": (lambda f: f.contraction_cents > 0, lambda f: f.contraction_cents),
    "churn": (lambda f: f.churn_cents > 0, lambda f: f.churn_cents),
    "gross_mrr_churn": (
        lambda f: f.churn_cents + f.contraction_cents > 0,
        lambda f: f.churn_cents + f.contraction_cents,
    ),
    "net_mrr_churn": (
        lambda f: f.churn_cents + f.contraction_cents + f.expansion_cents + f.reactivation_cents > 0,
        lambda f: f.churn_cents + f.contraction_cents - f.expansion_cents - f.reactivation_cents,
    ),
    "arpa": (lambda f: f.mrr_end_cents > 0, lambda f: f.mrr_end_cents),
    "churned": (_lost, lambda f: f.churn_cents),
    "logo_churn": (_lost, lambda f: f.churn_cents),
    "logo_churn_annualised": (_lost, lambda f: f.churn_cents),
    "voluntary_churned": (lambda f: _lost(f) and f.churn_kind == "voluntary", lambda f: f.churn_cents),
    "involuntary_churned": (lambda f: _lost(f) and f.churn_kind == "involuntary", lambda f: f.churn_cents),
    "joined_and_churned": (lambda f: f.mrr_start_cents == 0 and f.churned_in_period, lambda f: f.churn_cents),
    "grr": (_started, lambda f: min(f.mrr_start_cents, f.mrr_end_cents)),
    "nrr": (_started, lambda f: f.mrr_end_cents),
}


DRILL_PAGE_SIZE = 50


@dataclass
class DrillRow:
    customer: Customer
    amount_cents: int
    mrr_start_cents: int
    mrr_end_cents: int


@dataclass
class DrillPage(Paged):
    """One page of the customers behind a figure, with the count and the sum of all of them."""

    rows: list[DrillRow]
    count: int
    total_cents: int
    number: int
    per_page: int


SLICE_FILTERS = ("segment", "service_model", "plan_tier")


def _drill_rows_in_python(period: Period, figure: str, params: dict, *, page: int, per_page: int) -> list[tuple]:
    """The drill-down's rows as the SQL gives them (customer, amount, MRR at start and end, count, total),
    computed from the ledger in Python, with the same scope and filters (``params``); within a cohort, the
    scope and filters apply to the customer's slice at its month 0."""
    keep, amount = DRILLS_PY[figure]
    owners = set(params["owners"]) if "owners" in params else None
    history = LedgerHistory()
    members = cohorts.members_from_history(history) if "cohort" in params else {}

    def sliced(f: CustomerFacts):
        return members[f.customer_id] if "cohort" in params else f

    facts = [
        f
        for f in history.facts(period)
        if keep(f)
        and ("cohort" not in params or (f.customer_id in members and members[f.customer_id].cohort == params["cohort"]))
        and (
            "reason" not in params
            or (f.churned_in_period and f.churn_reason_id == (None if params["reason"] == "none" else params["reason"]))
        )
        and (owners is None or sliced(f).owner_id in owners)
        and ("owner" not in params or sliced(f).owner_id == params["owner"])
        and all(
            getattr(sliced(f), name) == params[name]
            for name in ("segment", "service_model", "plan_tier")
            if name in params
        )
    ]
    facts.sort(key=lambda f: (-amount(f), f.customer_id))
    total = sum(amount(f) for f in facts)
    chosen = facts[(page - 1) * per_page : page * per_page]
    return [(f.customer_id, amount(f), f.mrr_start_cents, f.mrr_end_cents, len(facts), total) for f in chosen]


def drilldown(
    user: User,
    period: Period,
    filters: MetricsFilters,
    figure: str,
    *,
    page: int = 1,
    per_page: int | None = None,
    cohort: date | None = None,
    reason: int | str | None = None,
) -> DrillPage:
    """The customers behind ``figure`` in ``period`` and the slices, scoped as the rollups are, largest first:
    all of them add up to the figure the page showed (``total_cents``). Two queries: the stored facts of the
    page's customers with the count and sum of all rows, then the page's customers.

    With ``cohort`` (a month), only that cohort's customers, and the door and the slices apply to each one's
    slice at its month 0, as on the cohort table: the customers behind a cohort cell. With ``reason`` (a churn
    reason's id, or "none"), only the customers whose churn in the period that reason ended (none: no churn
    request): the customers behind a row of the churn reasons."""
    condition, amount = DRILLS[figure]
    # The customers' facts of the period, stored with its rollups (``metrics.models.CustomerFact``) and read
    # by the period's index: the same rows the page's figure adds up.
    where = [condition, "facts.period_start = %(start)s", "facts.period_end = %(end)s"]
    params: dict = {"start": period.start, "end": period.end}
    join = ""
    sliced = "facts"
    if cohort is not None:
        join = "JOIN metrics_cohortmember members ON members.customer_id = facts.customer_id"
        where.append("members.cohort = %(cohort)s")
        params["cohort"] = cohort
        sliced = "members"
    if reason == "none":
        where.append("last_churn_month IS NOT NULL AND churn_reason_id IS NULL")
        params["reason"] = reason
    elif reason is not None:
        where.append("last_churn_month IS NOT NULL AND churn_reason_id = %(reason)s")
        params["reason"] = reason
    owners = visible_filter(user, people=("id",))
    if owners:  # not everyone's
        where.append(f"{sliced}.owner_id = ANY(%(owners)s)")
        params["owners"] = list(User.objects.filter(owners).values_list("pk", flat=True))
    if filters.owner is not None:
        where.append(f"{sliced}.owner_id = %(owner)s")
        params["owner"] = filters.owner
    for name in ("segment", "service_model", "plan_tier"):
        if getattr(filters, name):
            where.append(f"{sliced}.{name} = %({name})s")
            params[name] = getattr(filters, name)
    # The largest lists (every customer paying at the end, or at the start): their count and total are the
    # period's rollups, summed over the same slices, rather than a count over every row of the list.
    rolled = _rolled_totals(user, period, filters, figure) if cohort is None and reason is None else None
    # Every piece put in the text is this module's own SQL (DRILLS, the joins and conditions above); values are
    # parameters.
    matching = (
        f"SELECT facts.customer_id, {amount} AS amount, mrr_start_cents, mrr_end_cents "  # noqa: S608
        f"FROM metrics_customerfact facts {join} WHERE {' AND '.join(where)}"
    )
    if rolled:
        sql = f"{matching} ORDER BY {SORTED_BY.get(figure, 'amount')} DESC, facts.customer_id"
    else:
        # Counted and summed over every matching row (a window), so every one is read whatever the order: they are
        # gathered first, by the narrowest way in (a cohort's members, a reason), then sorted. Asked for in one
        # statement, PostgreSQL would walk the period's paying customers in order from their index, taking the
        # window for a list it could stop early, and test each one's cohort (85,000 for 1,600 at 50,000 customers).
        sql = (
            f"WITH matching AS MATERIALIZED ({matching}) "  # noqa: S608
            "SELECT customer_id, amount, mrr_start_cents, mrr_end_cents, COUNT(*) OVER () AS found, "
            "SUM(amount) OVER () AS total FROM matching ORDER BY amount DESC, customer_id"
        )
    sql += " LIMIT %(limit)s OFFSET %(offset)s"
    page, per_page = max(1, page), per_page or DRILL_PAGE_SIZE
    params.update(limit=per_page, offset=(page - 1) * per_page)
    if connection.vendor == "postgresql" and rolled:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = [(*row, *rolled) for row in cursor.fetchall()]
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
    else:
        found = _drill_rows_in_python(period, figure, params, page=page, per_page=per_page)
    if not found and page > 1:  # past the last page: show the first
        return drilldown(user, period, filters, figure, page=1, per_page=per_page, cohort=cohort, reason=reason)
    customers = Customer.objects.select_related("owner").in_bulk([row[0] for row in found])
    return DrillPage(
        rows=[DrillRow(customers[row[0]], int(row[1]), int(row[2]), int(row[3])) for row in found],
        count=int(found[0][4]) if found else 0,
        total_cents=int(found[0][5]) if found else 0,
        number=page,
        per_page=per_page,
    )


# figure → (the rollup's customer count, its cents, the cents' multiplier): the drill-downs whose count and total
# a period's rollups hold exactly (the customers paying at the end, or at the start, of the period).
ROLLED: dict[str, tuple[str, str, int]] = {
    "mrr": ("customers_end", "mrr_end_cents", 1),
    "paying": ("customers_end", "mrr_end_cents", 1),
    "arpa": ("customers_end", "mrr_end_cents", 1),
    "arr": ("customers_end", "mrr_end_cents", 12),
    "mrr_start": ("customers_start", "mrr_start_cents", 1),
    "customers_start": ("customers_start", "mrr_start_cents", 1),
    # The movements: each kind's customers are those whose facts hold some of it (``metrics.facts``: the rollup counts
    # ``COUNT(*) FILTER (WHERE <kind>_cents > 0)``), the drill-down's condition and amount exactly.
    **{kind: (f"{kind}_customers", f"{kind}_cents", 1) for kind in ("new", "expansion", "reactivation", "contraction")},
    "churn": ("churn_customers", "churn_cents", 1),
}


def _rolled_totals(user: User, period: Period, filters: MetricsFilters, figure: str) -> tuple[int, int] | None:
    """(count, total cents) of ``figure``'s customers from the period's rollups, or None when they hold no such
    pair. One query; the door and the filters as on the rollups the page added up."""
    if figure not in ROLLED or connection.vendor != "postgresql":
        return None
    count, cents, times = ROLLED[figure]
    sums = (
        rollups_visible_to(user)
        .filter(_period_q(period), filters.rollup_q())
        .aggregate(found=Sum(count), total=Sum(cents))
    )
    return int(sums["found"] or 0), times * int(sums["total"] or 0)


# --- Churn requests and the UTI ----------------------------------------------------------------------------
#
# Churn requests and UTI stays belong to customers: the door and the filters apply to each customer's owner,
# segment, plan and service model *now* (the customer's current CSM), not to the owner at the start of the
# period as the rollups do; the page says so.

SAVED = (ChurnOutcome.RECOVERED, ChurnOutcome.DOWNSELL)
UTI_CHECK_DAYS = 90

# The customers behind each figure of the card, as a filter on churn requests or on UTI stays.
SAVE_DRILLS: dict[str, tuple[str, Q]] = {
    "requests_opened": ("request", Q()),
    "requests_saved": ("request", Q(outcome__in=SAVED)),
    "requests_lost": ("request", Q(outcome=ChurnOutcome.CHURNED)),
    "requests_open": ("request", Q(outcome=ChurnOutcome.OPEN)),
    "save_rate": ("request", Q(outcome__in=[*SAVED, ChurnOutcome.CHURNED])),
    "uti_ended": ("ended", Q()),
    "uti_recovered": ("ended", Q(exit=UtiExit.RECOVERED)),
    "uti_churned": ("ended", Q(exit=UtiExit.CHURNED)),
    "uti_checked": ("checked", Q()),
    "uti_paying_90": ("checked", Q(mrr_at_check__gt=0)),
}


def _customer_q(user: User, filters: MetricsFilters, prefix: str = "customer__") -> Q:
    """The door and the page's filters on the customer a row belongs to (its current owner and slices)."""
    return visible_filter(user, people=(f"{prefix}owner",)) & filters.rollup_q(prefix=prefix)


def _requests_in(user: User, period: Period, filters: MetricsFilters) -> QuerySet[ChurnRequest]:
    return ChurnRequest.objects.filter(
        _customer_q(user, filters), requested_on__gte=period.start, requested_on__lte=month_end(period.end)
    )


def _stays_ended_in(user: User, period: Period, filters: MetricsFilters) -> QuerySet[UtiStay]:
    return UtiStay.objects.filter(
        _customer_q(user, filters),
        ~Q(exit=UtiExit.OPEN),
        exited_on__gte=period.start,
        exited_on__lte=month_end(period.end),
    )


def _stays_checked_in(user: User, period: Period, filters: MetricsFilters) -> QuerySet[UtiStay]:
    """The stays whose 90th day after their start falls in the period (so they started at least 90 days before
    its end), with the customer's month-end MRR, by the ledger, of the month of that day."""
    first = period.start - timedelta(days=UTI_CHECK_DAYS)
    last = month_end(period.end) - timedelta(days=UTI_CHECK_DAYS)
    ledger = MrrMovement.objects.filter(customer_id=OuterRef("customer_id"), month__lte=OuterRef("check_day"))
    return (
        UtiStay.objects.filter(_customer_q(user, filters), started_on__gte=first, started_on__lte=last)
        .annotate(check_day=ExpressionWrapper(F("started_on") + timedelta(days=UTI_CHECK_DAYS), DateField()))
        .annotate(mrr_at_check=Coalesce(Subquery(ledger.order_by("-month").values("mrr_end_cents")[:1]), 0))
    )


NOTHING_DECIDED = _("No churn request opened in the period was saved or lost yet: the save rate is undefined.")
NO_UTI_CHECK = _("No UTI stay reached its 90th day in the period.")


@dataclass
class SaveFigures:
    """Churn requests opened in the period and what became of them; UTI stays that ended in it, and those whose
    90th day fell in it with whether the customer still paid then."""

    opened: int
    saved: int
    lost: int
    still_open: int
    save_rate: Figure
    uti_ended: int
    uti_recovered: int
    uti_churned: int
    uti_checked: int
    uti_paying_90: int
    uti_paying_rate: Figure


def save_figures(user: User, period: Period, filters: MetricsFilters) -> SaveFigures:
    """The churn requests and UTI card of ``period``, with the door and the filters on each customer (its owner
    and slices now): three queries."""
    requests = _requests_in(user, period, filters).aggregate(
        opened=Count("pk"),
        saved=Count("pk", filter=Q(outcome__in=SAVED)),
        lost=Count("pk", filter=Q(outcome=ChurnOutcome.CHURNED)),
        still_open=Count("pk", filter=Q(outcome=ChurnOutcome.OPEN)),
    )
    ended = _stays_ended_in(user, period, filters).aggregate(
        n=Count("pk"),
        recovered=Count("pk", filter=Q(exit=UtiExit.RECOVERED)),
        churned=Count("pk", filter=Q(exit=UtiExit.CHURNED)),
    )
    checked = _stays_checked_in(user, period, filters).aggregate(
        n=Count("pk"), paying=Count("pk", filter=Q(mrr_at_check__gt=0))
    )
    rate = ratio(requests["saved"], requests["saved"] + requests["lost"])
    paying_rate = ratio(checked["paying"], checked["n"])
    return SaveFigures(
        opened=requests["opened"],
        saved=requests["saved"],
        lost=requests["lost"],
        still_open=requests["still_open"],
        save_rate=Figure("save_rate", rate, "rate", "" if rate is not None else NOTHING_DECIDED),
        uti_ended=ended["n"],
        uti_recovered=ended["recovered"],
        uti_churned=ended["churned"],
        uti_checked=checked["n"],
        uti_paying_90=checked["paying"],
        uti_paying_rate=Figure("uti_paying_90", paying_rate, "rate", "" if paying_rate is not None else NO_UTI_CHECK),
    )


def save_drilldown(
    user: User, period: Period, filters: MetricsFilters, figure: str, *, page: int = 1, per_page: int | None = None
) -> DrillPage:
    """The customers behind a figure of the churn requests and UTI card, by name, with the MRR at risk of the
    churn requests behind them (for UTI stays, the request that sent them there). Three queries."""
    source, condition = SAVE_DRILLS[figure]
    if source == "request":
        rows = _requests_in(user, period, filters).filter(condition)
        amount = Sum("mrr_at_risk_cents")
    else:
        stays = _stays_ended_in if source == "ended" else _stays_checked_in
        rows = stays(user, period, filters).filter(condition)
        amount = Sum("churn_request__mrr_at_risk_cents")
    per_customer = rows.values("customer_id").annotate(amount=amount).order_by()
    total = per_customer.aggregate(count=Count("customer_id"), total=Sum("amount"))
    page, per_page = max(1, page), per_page or DRILL_PAGE_SIZE
    if (page - 1) * per_page >= (total["count"] or 0):
        page = 1
    amounts = dict(per_customer.values_list("customer_id", "amount"))
    customers = (
        Customer.objects.select_related("owner")
        .filter(pk__in=per_customer.values("customer_id"))
        .order_by("name", "pk")[(page - 1) * per_page : page * per_page]
    )
    return DrillPage(
        rows=[DrillRow(c, int(amounts.get(c.pk) or 0), c.mrr_cents, c.mrr_cents) for c in customers],
        count=int(total["count"] or 0),
        total_cents=int(total["total"] or 0),
        number=page,
        per_page=per_page,
    )
