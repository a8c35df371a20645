"""Renewals ahead: the customers whose renewal date falls in the next 30, 60 or 90 days, with the MRR at stake,
what they are paying, their stage, the last touch and whether a churn request is open; and My day's panel of
this month's renewals."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import BigIntegerField, Count, Exists, F, Func, OuterRef, Q, QuerySet, Subquery, Sum, Window

from accounts.access import can_lead
from accounts.models import OWNER_ROLES, User
from accounts.selectors import assignable_people
from core import clock
from portfolio.models import ChurnOutcome, ChurnRequest, Customer, Stage
from portfolio.selectors.scope import customers_visible_to

WINDOWS = (30, 60, 90)
SORTS = {
    "renewal": (F("renewal_date").asc(), "name", "pk"),
    "-renewal": (F("renewal_date").desc(), "-name", "-pk"),
    "mrr": ("mrr_cents", "pk"),
    "-mrr": ("-mrr_cents", "-pk"),
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "touch": (F("last_touch_at").asc(nulls_first=True), "pk"),
    "-touch": (F("last_touch_at").desc(nulls_last=True), "-pk"),
}


@dataclass(frozen=True)
class RenewalFilters:
    window: int = 30  # days ahead, one of WINDOWS
    owner: int | None = None  # a CSM, for those who see several
    sort: str = "renewal"


def renewals_between(user: User, start: date, end: date, *, owner: int | None = None) -> QuerySet[Customer]:
    """Customers ``user`` sees whose renewal date falls in [start, end], churned ones left out, each with
    ``open_churn`` (a churn request waits for its outcome)."""
    qs = customers_visible_to(user).filter(renewal_date__gte=start, renewal_date__lte=end).exclude(stage=Stage.CHURNED)
    if owner:
        qs = qs.filter(owner_id=owner)
    return qs.annotate(
        open_churn=Exists(ChurnRequest.objects.filter(customer=OuterRef("pk"), outcome=ChurnOutcome.OPEN))
    )


def renewals_list(user: User, filters: RenewalFilters) -> QuerySet[Customer]:
    today = clock.today()
    window = filters.window if filters.window in WINDOWS else WINDOWS[0]
    qs = renewals_between(user, today, today + timedelta(days=window), owner=filters.owner)
    return qs.select_related("owner").order_by(*SORTS.get(filters.sort, SORTS["renewal"]))


def renewals_totals(qs: QuerySet[Customer]) -> dict:
    """How many renew and the MRR at stake (theirs, summed), and how many of them have a churn request open."""
    return qs.order_by().aggregate(
        count=Count("pk"), mrr_cents=Sum("mrr_cents", default=0), at_risk=Count("pk", filter=Q(open_churn=True))
    )


@dataclass(frozen=True)
class RenewalsPage:
    filters: RenewalFilters
    today: date
    until: date
    page: Page
    totals: dict
    owners: list[User]  # whom the CSM filter lists (empty for those who see only their own)
    windows: tuple[int, ...] = WINDOWS


def renewal_owners(user: User) -> list[User]:
    """Whose renewals a leader (or admin) filters by: the people who own customers in the teams they oversee."""
    return list(assignable_people(user, roles=OWNER_ROLES).order_by("full_name", "pk")) if can_lead(user) else []


def renewals_page(
    user: User,
    filters: RenewalFilters,
    *,
    page_number: str | int | None = None,
    per_page: int = 50,
    owners: list[User] | None = None,
) -> RenewalsPage:
    """The renewals page: one query for the totals (the count among them), one for the page of rows."""
    today = clock.today()
    rows = renewals_list(user, filters)
    totals = renewals_totals(rows)
    paginator = Paginator(rows, per_page)
    paginator.count = totals["count"]
    return RenewalsPage(
        filters=filters,
        today=today,
        until=today + timedelta(days=filters.window if filters.window in WINDOWS else WINDOWS[0]),
        page=paginator.get_page(page_number),
        totals=totals,
        owners=renewal_owners(user) if owners is None else owners,
    )


@dataclass(frozen=True)
class MonthRenewals:
    """My day's panel: the renewals from today to the month's end."""

    customers: list[Customer]
    totals: dict
    until: date


def month_renewals(user: User, today: date, people: Q, *, shown: int = 10, many: bool = False) -> MonthRenewals:
    """This month's renewals still ahead, of the customers ``people`` selects (the person's own; a leader's
    team), the nearest first: one query, the first ``shown`` rows each carrying the totals of all of them; none
    when there are no rows (then nothing renews: zero).

    A person's own renewals (tens) are totalled by window aggregates, counted before the limit. ``many`` (a
    leader's: a month of the whole book renews, 2,500 customers here, ten times that on ten times the customers)
    totals them in uncorrelated subqueries PostgreSQL runs once: the count and the MRR from a covering index of the
    renewal dates (portfolio 0027: the id, MRR and people the door reads with each, the churned left out), not the
    wide customer rows; those at risk from the open churn requests (1,290 here) among them. Still an index entry per
    customer renewing, but narrow: the window aggregates read every row whole with its owner, sorted (on disk at
    500,000 customers), before the limit kept 10."""
    until = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    rows = renewals_between(user, today, until).filter(people).select_related("owner")
    if many:
        renewing = (
            customers_visible_to(user)
            .filter(people, renewal_date__gte=today, renewal_date__lte=until)
            .exclude(stage=Stage.CHURNED)
            .order_by()
        )
        at_risk = ChurnRequest.objects.filter(outcome=ChurnOutcome.OPEN, customer__in=renewing.values("pk")).order_by()
        rows = rows.annotate(
            renewing=_total(renewing, "COUNT", "pk"),
            renewing_mrr_cents=_total(renewing, "SUM", "mrr_cents"),
            renewing_at_risk=_total(at_risk, "COUNT", "pk"),
        )
    else:
        rows = rows.annotate(
            renewing=Window(Count("pk")),
            renewing_mrr_cents=Window(Sum("mrr_cents")),
            renewing_at_risk=Window(Count("pk", filter=Q(open_churn=True))),
        )
    rows = list(rows.order_by("renewal_date", "name", "pk")[:shown])
    first = rows[0] if rows else None
    totals = {
        "count": first.renewing if first else 0,
        "mrr_cents": first.renewing_mrr_cents if first else 0,
        "at_risk": first.renewing_at_risk if first else 0,
    }
    return MonthRenewals(customers=rows, totals=totals, until=until)


def _total(rows: QuerySet, function: str, field: str) -> Subquery:
    """``function`` (COUNT, SUM) of ``field`` over ``rows``, as an uncorrelated scalar subquery."""
    total = Func(
        field, function=function, template="%(function)s(%(expressions)s)::bigint", output_field=BigIntegerField()
    )
    return Subquery(rows.annotate(total=total).values("total"))
