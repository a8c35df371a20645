"""The portfolio list: the customers in the user's scope, filtered, sorted, counted and paged."""

from dataclasses import dataclass, fields
from datetime import date
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.access import can_create_customers, can_import, can_reassign, own_rows_filter
from accounts.models import User
from accounts.selectors import owner_candidates
from portfolio.models import ChurnOutcome, ChurnRequest, Customer, CustomerBookTally, SavedView, Subscription
from portfolio.selectors.scope import customers_changeable_by, customers_visible_to, reads_book_tally

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "mrr": ("mrr_cents", "pk"),
    "-mrr": ("-mrr_cents", "-pk"),
    "renewal": (F("renewal_date").asc(nulls_last=True), "pk"),
    "-renewal": (F("renewal_date").desc(nulls_last=True), "-pk"),
    "touch": (F("last_touch_at").asc(nulls_first=True), "pk"),
    "-touch": (F("last_touch_at").desc(nulls_last=True), "-pk"),
    "stage": ("stage", "name", "pk"),
    # Health: the score people see (an override's while one is in force); customers without one last.
    "health": (F("health_score").asc(nulls_last=True), "pk"),
    "-health": (F("health_score").desc(nulls_last=True), "-pk"),
}

NO_HEALTH = "none"  # the health filter's value for customers without a score yet
PAGE_SIZES = (25, 50, 100)


@dataclass(frozen=True)
class PortfolioFilters:
    q: str = ""
    stage: str = ""
    service_model: str = ""
    segment: str = ""
    owner: int | None = None
    health: str = ""  # a band (red, yellow, green), or NO_HEALTH
    sort: str = "name"
    per_page: int = PAGE_SIZES[0]

    def as_query(self) -> str:
        """The list's query string for these filters: only what differs from the defaults, in a fixed order,
        so that the same filters always read the same (a saved view, the current one, a link)."""
        default = PortfolioFilters()
        pairs = [
            (f.name, getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) not in (None, "") and getattr(self, f.name) != getattr(default, f.name)
        ]
        return urlencode(pairs)


def _tallied(filters: PortfolioFilters) -> dict:
    """The filters on the columns the book's tally keeps (all but the search), as lookups that read the same on
    the customers and on the tally's cells (``CustomerBookTally``)."""
    lookups = {}
    if filters.stage:
        lookups["stage"] = filters.stage
    if filters.service_model:
        lookups["service_model"] = filters.service_model
    if filters.segment:
        lookups["segment"] = filters.segment
    if filters.owner:
        lookups["owner_id"] = filters.owner
    if filters.health:
        lookups["health_band"] = "" if filters.health == NO_HEALTH else filters.health
    return lookups


def _filtered(qs: QuerySet[Customer], filters: PortfolioFilters) -> QuerySet[Customer]:
    if filters.q:
        term = filters.q.strip()
        digits = "".join(ch for ch in term if ch.isdigit())
        match = Q(name__icontains=term) | Q(external_id=term)
        if len(digits) >= 8:
            match |= Q(cnpj__startswith=digits)
        qs = qs.filter(match)
    return qs.filter(**_tallied(filters))


def portfolio_list(user: User, filters: PortfolioFilters) -> QuerySet[Customer]:
    """The customers on the portfolio page (and in its CSV), filtered and sorted; one query for the rows."""
    qs = _filtered(customers_visible_to(user).select_related("owner", "implementation_manager"), filters)
    qs = qs.annotate(
        open_churn=Exists(ChurnRequest.objects.filter(customer=OuterRef("pk"), outcome=ChurnOutcome.OPEN)),
        delinquent=Exists(Subscription.objects.filter(customer=OuterRef("pk"), status="delinquent")),
    )
    return qs.order_by(*SORTS.get(filters.sort, SORTS["name"]))


def customers_matching(user: User, filters: PortfolioFilters) -> QuerySet[Customer]:
    """Every customer the filters match that ``user`` may change: what a bulk action on "all matching" acts on,
    computed here from the filters, never from ids the browser sends."""
    return _filtered(customers_changeable_by(user), filters).order_by("pk")


def saved_views_of(user: User) -> QuerySet[SavedView]:
    """A person's saved portfolio views, by name: theirs alone."""
    return SavedView.objects.filter(own_rows_filter(user)).order_by("name", "pk")


def portfolio_totals(user: User, filters: PortfolioFilters) -> dict:
    """How many customers the filters match, and their MRR (None when none match): one query. Someone who sees
    every customer (``reads_book_tally``) reads them from the book's tally, at most 144 cells per CSM however many
    customers there are, unless they search: a name is no column of the tally. Anyone else, or a search, counts
    the customers matching."""
    if not filters.q and reads_book_tally(user):
        totals = CustomerBookTally.objects.filter(**_tallied(filters)).aggregate(
            count=Coalesce(Sum("customers"), 0), mrr_cents=Sum("mrr_cents")
        )
        if not totals["count"]:  # cells emptied of their customers, or none: as when no customer matches
            totals["mrr_cents"] = None
        return totals
    qs = portfolio_list(user, filters).order_by()
    return qs.aggregate(count=Count("pk"), mrr_cents=Sum("mrr_cents"))


@dataclass(frozen=True)
class PortfolioPage:
    """One page of the portfolio list, with the totals of every customer the filters match and what the user
    may do with them."""

    filters: PortfolioFilters
    page: Page
    totals: dict
    can_reassign: bool
    assignees: QuerySet[User] | list[User]
    can_create: bool
    can_import: bool
    today: date
    saved_views: list[SavedView]
    current_query: str  # the filters as a saved view keeps them


def portfolio_page(
    user: User, filters: PortfolioFilters, *, page_number: str | int | None, per_page: int | None = None
) -> PortfolioPage:
    """The portfolio page: a query for the totals (the count among them, which "select all matching" shows
    too), one for the page of rows and one for the person's saved views."""
    totals = portfolio_totals(user, filters)
    paginator = Paginator(portfolio_list(user, filters), per_page or filters.per_page)
    paginator.count = totals["count"]  # already counted with the MRR total: one COUNT, not two
    reassign = can_reassign(user)
    return PortfolioPage(
        filters=filters,
        page=paginator.get_page(page_number),
        totals=totals,
        can_reassign=reassign,
        assignees=owner_candidates(user) if reassign else [],
        can_create=can_create_customers(user),
        can_import=can_import(user),
        today=timezone.localdate(),
        saved_views=list(saved_views_of(user)),
        current_query=filters.as_query(),
    )
