"""Does the health score predict churn? A backtest over the score's own history.

For every month M whose next 90 days are over, each customer scored at M's start (its score on M's first day,
or the latest in the 7 days before) is one observation, in its band, with the raw value of each measure; it
*churned* when, within the 90 days from M, it opened a churn request, moved to the churned stage, or its MRR
went to 0 (a churn movement of the ledger, dated on its month's first day).

Over those observations (DOMAIN.md's conventions, and the method of *Fighting Churn with Data*):

* the churn rate of each band, and the lift of red over green (red's rate ÷ green's);
* the ROC AUC of the score: the probability that a random churner scored lower than a random non-churner,
  ties counting half, computed exactly from ranks (Mann–Whitney U, tied values share their average rank);
* for each measure, the AUC of its raw value and its deciles' churn rates: observations sorted by the value,
  cut into ten groups of equal size (equal values stay in one group), the churn rate of each.

With fewer than ``MIN_MONTHS`` months or ``MIN_CHURNERS`` customers who churned, the results are noise: the
page says so instead of showing them. The backtest only reads; it never changes a profile.

The arithmetic is pure functions over ``Observation`` rows (``backtest``); ``backtest_for`` loads them in a
fixed number of queries.
"""

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from django.db.models import Min, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from accounts.models import User
from core import clock
from health.models import HealthProfileVersion, HealthScore
from health.profile_rules import measure_label, measure_order
from portfolio.models import ChurnRequest, Customer, MovementKind, MrrMovement, Stage
from portfolio.selectors import customers_visible_to

HORIZON_DAYS = 90  # churned within this many days of the month's start
LOOKBACK_DAYS = 7  # a score up to this many days before the month's start stands for it
MIN_MONTHS = 3
MIN_CHURNERS = 10
STRONG = Fraction(1, 10)  # |AUC − ½| from which a measure carries signal
WEAK = Fraction(1, 20)  # below this, next to none
NO_SCORE = "none"
BANDS = ("red", "yellow", "green", NO_SCORE)


@dataclass(frozen=True)
class Observation:
    """One customer at one month's start: its score and band then, its measures' raw values, and whether it
    churned within the next 90 days."""

    month: date
    customer_id: int
    score: int | None
    band: str  # red, yellow, green, or "" (no score)
    measures: dict[str, float | None]
    churned: bool


@dataclass(frozen=True)
class Rate:
    n: int
    churned: int

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.churned, self.n) if self.n else None


@dataclass(frozen=True)
class Decile:
    number: int  # 1 (lowest values) to 10
    low: float
    high: float
    outcome: Rate


@dataclass(frozen=True)
class MeasureSignal:
    key: str
    label: str
    n: int
    auc: Fraction | None
    deciles: list[Decile]

    @property
    def strength(self) -> Fraction | None:
        return abs(self.auc - Fraction(1, 2)) if self.auc is not None else None

    @property
    def signal(self) -> str:
        """``strong`` (|AUC − ½| ≥ 0.1), ``weak`` (≥ 0.05), ``none``, or ``unknown`` without an AUC."""
        if self.strength is None:
            return "unknown"
        if self.strength >= STRONG:
            return "strong"
        return "weak" if self.strength >= WEAK else "none"

    @property
    def lower_churns(self) -> bool:
        """Whether churners tend to have the lower values (AUC above ½: a churner's value is more often the
        lower one of a pair)."""
        return self.auc is not None and self.auc > Fraction(1, 2)


@dataclass
class Backtest:
    months: list[date]
    observations: int
    churners: int  # distinct customers who churned in some month's window
    enough: bool
    bands: dict[str, Rate] = field(default_factory=dict)
    lift: Fraction | None = None
    score_auc: Fraction | None = None
    measures: list[MeasureSignal] = field(default_factory=list)

    @property
    def with_signal(self) -> list[MeasureSignal]:
        return [m for m in self.measures if m.signal == "strong"]

    @property
    def without_signal(self) -> list[MeasureSignal]:
        return [m for m in self.measures if m.signal == "none"]


# --- The arithmetic -------------------------------------------------------------------------------------


def average_ranks(values: list[float]) -> list[Fraction]:
    """The rank of each value among ``values`` (1 for the lowest), tied values sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks: list[Fraction] = [Fraction(0)] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        rank = Fraction(start + 1 + end + 1, 2)
        for position in range(start, end + 1):
            ranks[order[position]] = rank
        start = end + 1
    return ranks


def auc(values: list[float], churned: list[bool]) -> Fraction | None:
    """P(a random churner's value < a random non-churner's) + ½ P(equal), exactly; None without both kinds.

    By Mann–Whitney: the non-churners' rank sum less its least possible value is the number of (churner,
    non-churner) pairs in which the non-churner has the higher value, ties counting half.
    """
    churners = sum(churned)
    others = len(values) - churners
    if not churners or not others:
        return None
    ranks = average_ranks(values)
    rank_sum = sum((r for r, c in zip(ranks, churned, strict=True) if not c), Fraction(0))
    pairs_won = rank_sum - Fraction(others * (others + 1), 2)
    return pairs_won / (churners * others)


def deciles(values: list[float], churned: list[bool], groups: int = 10) -> list[Decile]:
    """Sort by value, cut into ``groups`` groups of equal size, and give each group's churn rate. Equal values
    stay in one group (the group of the first of them), so a group may be larger, or missing."""
    n = len(values)
    if not n:
        return []
    order = sorted(range(n), key=lambda i: values[i])
    members: dict[int, list[int]] = defaultdict(list)
    first = 0
    for position, i in enumerate(order):
        if position and values[i] != values[order[position - 1]]:
            first = position
        members[first * groups // n].append(i)
    return [
        Decile(
            number=group + 1,
            low=values[rows[0]],
            high=values[rows[-1]],
            outcome=Rate(len(rows), sum(1 for i in rows if churned[i])),
        )
        for group, rows in sorted(members.items())
    ]


def backtest(observations: list[Observation], *, measure_keys: list[str] | None = None) -> Backtest:
    """The backtest's figures over ``observations`` (see the module's docstring)."""
    months = sorted({o.month for o in observations})
    churners = len({o.customer_id for o in observations if o.churned})
    result = Backtest(
        months=months,
        observations=len(observations),
        churners=churners,
        enough=len(months) >= MIN_MONTHS and churners >= MIN_CHURNERS,
    )
    if not result.enough:
        return result
    for band in BANDS:
        rows = [o for o in observations if (o.band or NO_SCORE) == band]
        result.bands[band] = Rate(len(rows), sum(o.churned for o in rows))
    red, green = result.bands["red"].rate, result.bands["green"].rate
    result.lift = red / green if red is not None and green else None
    scored = [o for o in observations if o.score is not None]
    result.score_auc = auc([o.score for o in scored], [o.churned for o in scored])
    keys = measure_keys if measure_keys is not None else sorted({k for o in observations for k in o.measures})
    for key in keys:
        known = [o for o in observations if o.measures.get(key) is not None]
        values = [float(o.measures[key]) for o in known]
        outcome = [o.churned for o in known]
        result.measures.append(
            MeasureSignal(
                key=key,
                label=measure_label(key),
                n=len(known),
                auc=auc(values, outcome),
                deciles=deciles(values, outcome),
            )
        )
    result.measures.sort(key=lambda m: (m.strength is None, -(m.strength or 0), m.label))
    return result


def month_starts(first_scored: date, today: date) -> list[date]:
    """The first days of the months from the first with a score (on or before that day) whose next 90 days are
    over by ``today``."""
    month = date(first_scored.year, first_scored.month, 1)
    if month < first_scored:
        month = _next_month(month)
    months = []
    while month + timedelta(days=HORIZON_DAYS) <= today:
        months.append(month)
        month = _next_month(month)
    return months


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def observations_from(
    scores: list[dict], churn_days: dict[int, list[date]], months: list[date], measure_keys: list[str]
) -> list[Observation]:
    """One observation per customer and month from score rows (``customer_id``, ``day``, ``score``, ``band``
    and ``raw_<key>`` per measure) and each customer's churn dates, sorted."""
    wanted = set(months)
    by_customer_month: dict[tuple[int, date], dict] = {}
    for row in scores:
        # The one month start a score can stand for: its own day, or the next first of a month within 7 days.
        day = row["day"]
        month = day if day.day == 1 else _next_month(date(day.year, day.month, 1))
        if month not in wanted or (month - day).days > LOOKBACK_DAYS:
            continue
        key = (row["customer_id"], month)
        if key not in by_customer_month or by_customer_month[key]["day"] < day:
            by_customer_month[key] = row
    observations = []
    for (customer_id, month), row in sorted(by_customer_month.items(), key=lambda item: (item[0][1], item[0][0])):
        dates = churn_days.get(customer_id, [])
        start = bisect.bisect_left(dates, month)
        churned = start < len(dates) and dates[start] < month + timedelta(days=HORIZON_DAYS)
        observations.append(
            Observation(
                month=month,
                customer_id=customer_id,
                score=row["score"],
                band=row["band"],
                measures={key: _number(row.get(f"raw_{key}")) for key in measure_keys},
                churned=churned,
            )
        )
    return observations


def _number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --- Loading ----------------------------------------------------------------------------------------------


def backtest_for(user: User) -> Backtest:
    """The backtest over the customers ``user`` sees, in six queries."""
    observations, keys = observations_for(user)
    return backtest(observations, measure_keys=keys)


def observations_for(user: User) -> tuple[list[Observation], list[str]]:
    """The observations over the customers ``user`` sees, and the measure keys of the profiles: six queries
    (the first score's day, the profiles' measures, the scores at the months' starts, and the three kinds of
    churn dates)."""
    today = clock.today()
    visible = customers_visible_to(user).values("pk")
    first = HealthScore.objects.filter(customer__in=visible).aggregate(first=Min("day"))["first"]
    months = month_starts(first, today) if first is not None else []
    if not months:
        return [], []
    keys = measure_order(
        {key for measures in HealthProfileVersion.objects.values_list("measures", flat=True) for key in measures}
    )
    window = Q()
    for month in months:
        window |= Q(day__range=(month - timedelta(days=LOOKBACK_DAYS), month))
    columns = {f"raw_{key}": f"measures__{key}__raw" for key in keys}
    scores = list(
        HealthScore.objects.filter(window, customer__in=visible)
        .values("customer_id", "day", "score", "band", **{alias: KT(path) for alias, path in columns.items()})
        .order_by()
    )
    churn_days: dict[int, list[date]] = defaultdict(list)
    for customer_id, day in ChurnRequest.objects.filter(customer__in=visible).values_list(
        "customer_id", "requested_on"
    ):
        churn_days[customer_id].append(day)
    for customer_id, moment in Customer.objects.filter(pk__in=visible, stage=Stage.CHURNED).values_list(
        "pk", "stage_changed_at"
    ):
        churn_days[customer_id].append(timezone.localdate(moment))
    for customer_id, month in MrrMovement.objects.filter(customer__in=visible, kind=MovementKind.CHURN).values_list(
        "customer_id", "month"
    ):
        churn_days[customer_id].append(month)
    for dates in churn_days.values():
        dates.sort()
    return observations_from(scores, churn_days, months, keys), keys
