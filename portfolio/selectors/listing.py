"""The portfolio list: the customers in the user's scope, filtered, sorted, counted and paged."""

from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts.access import can_create_customers, can_import, can_reassign
from accounts.models import User
from accounts.selectors import owner_candidates
from portfolio.models import ChurnOutcome, ChurnRequest, Customer, Subscription
from portfolio.selectors.scope import customers_visible_to

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


@dataclass(frozen=True)
class PortfolioFilters:
    q: str = ""
    stage: str = ""
    service_model: str = ""
    segment: str = ""
    owner: int | None = None
    health: str = ""  # a band (red, yellow, green), or NO_HEALTH
    sort: str = "name"


def portfolio_list(user: User, filters: PortfolioFilters) -> QuerySet[Customer]:
    """The customers on the portfolio page, filtered and sorted; one query for the page of rows."""
    qs = customers_visible_to(user).select_related("owner", "implementation_manager")
    if filters.q:
        term = filters.q.strip()
        digits = "".join(ch for ch in term if ch.isdigit())
        match = Q(name__icontains=term) | Q(external_id=term)
        if len(digits) >= 8:
            match |= Q(cnpj__startswith=digits)
        qs = qs.filter(match)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.service_model:
        qs = qs.filter(service_model=filters.service_model)
    if filters.segment:
        qs = qs.filter(segment=filters.segment)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.health:
        qs = qs.filter(health_band="" if filters.health == NO_HEALTH else filters.health)
    qs = qs.annotate(
        open_churn=Exists(ChurnRequest.objects.filter(customer=OuterRef("pk"), outcome=ChurnOutcome.OPEN)),
        delinquent=Exists(Subscription.objects.filter(customer=OuterRef("pk"), status="delinquent")),
    )
    return qs.order_by(*SORTS.get(filters.sort, SORTS["name"]))


def portfolio_totals(user: User, filters: PortfolioFilters) -> dict:
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


def portfolio_page(
    user: User, filters: PortfolioFilters, *, page_number: str | int | None, per_page: int
) -> PortfolioPage:
    """The portfolio page: a query for the totals (the count among them) and one for the page of rows."""
    totals = portfolio_totals(user, filters)
    paginator = Paginator(portfolio_list(user, filters), per_page)
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
    )
