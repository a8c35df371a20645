"""The door for portfolio rows: what the acting user may see and change. Every other selector starts here."""

from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from accounts.access import (
    changeable_filter,
    get_visible_or_404,
    in_team_filter,
    may_see_every_row,
    outside_candidates_filter,
    remembered,
    sees_every_row_by_rule,
    visible_filter,
)
from accounts.models import User
from core import request_memo
from portfolio import book_tally
from portfolio.models import (
    Activity,
    ChurnRequest,
    Contact,
    Customer,
    ExpansionOpportunity,
    Milestone,
    MrrMovement,
    Subscription,
    SuccessReview,
    Task,
    UtiStay,
)

CUSTOMER_PEOPLE = ("owner", "implementation_manager", "farmer")
M = TypeVar("M", bound=Model)


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """The one starting point for customers: what ``user`` may see. Built once per person object
    (``accounts.access.remembered``: a page reads a dozen lists from it), a fresh queryset each call. Every
    customer, untested, when a page's door lets ``user`` through to all of them (``page_sees_every_customer``)."""
    if page_sees_every_customer(user):
        return Customer.objects.all()
    return remembered(
        user,
        ("customers_visible_to", request_memo.scope_id()),  # per request: the door may hold ids read for it
        lambda: Customer.objects.filter(visible_filter(user, people=CUSTOMER_PEOPLE)),
    ).all()


def of_visible_customer_keys(rows: QuerySet[M], user: User, path: str = "customer") -> QuerySet[M]:
    """``rows`` whose customer (at ``path``) ``user`` sees, as a semi-join that tests every one of them (a leader's
    thousands of red scores of the day) on the customers' ids, read from the narrow ``portfolio_customer_pace`` index
    (every customer's people, portfolio 0021) instead of the customer rows, as its condition is stated (a start date
    is never empty). Nothing to test when a page's door lets ``user`` through to every customer
    (``page_sees_every_customer``): the semi-join would hash every customer there is. Where a few rows each read
    their customer by key, ``of_visible_customers`` is as fast."""
    if page_sees_every_customer(user):
        return rows
    keys = customers_visible_to(user).filter(start_date__isnull=False).values("pk")
    return rows.filter(**{f"{path}__in": keys})


def sees_every_customer(user: User) -> bool:
    """Whether the door lets ``user`` through to every customer there is: by rule (admins, a viewer with no team:
    no query), or because the teams they read are responsible for every customer (a leader whose team holds the
    whole book), which only looking tells. One query, so from one snapshot: is there a customer the door keeps
    out? The door is tested on the customers that could be out (``accounts.access.outside_candidates_filter``: no
    owner, or an owner outside those teams), found by the owner's index, not on every customer. A CSM, ISM or
    farmer sees their own customers and is never asked.

    Where it is true, a query may read rows without testing each one's customer against the door (the same rows:
    there is no customer outside it), which spares a leader's pages the join through every customer."""
    if sees_every_row_by_rule(user):
        return True
    if not may_see_every_row(user):
        return False
    key = ("sees_every_customer", user.pk, user.role, user.team_id)

    def look() -> bool:
        candidates = Customer.objects.filter(outside_candidates_filter(user, people=CUSTOMER_PEOPLE))
        return not candidates.exclude(visible_filter(user, people=CUSTOMER_PEOPLE)).exists()

    # Once per request (core.request_memo), since every list of a page asks; outside a request, each time asked.
    return request_memo.once(key, look)


def page_sees_every_customer(user: User) -> bool:
    """Whether the lists of the page being answered may skip testing the door on each row, because it lets
    ``user`` through to every customer (``sees_every_customer``, looked at once for the request). Never outside a
    request (a Celery task, a command): there the door is tested on each row as always, and nothing worked out
    here outlives the request that did. Nor for admins and a viewer with no team, whose door filters nothing
    anyway, nor for a CSM, ISM or farmer.

    The answer holds for the whole request: a customer a leader moves out of their teams during it may still be in
    the lists of the same answer (to the person who just moved it), never in the next."""
    if not request_memo.in_request() or sees_every_row_by_rule(user) or not may_see_every_row(user):
        return False
    return sees_every_customer(user)


def reads_book_tally(user: User) -> bool:
    """Whether counts and MRR sums of the customers ``user`` sees may be read from the book's tally
    (``CustomerBookTally``: customers and MRR per CSM, stage, service model, segment and band, kept by the
    database) instead of from the customers: where the database keeps it, and the door lets ``user`` through to
    every customer (``sees_every_customer``: admins, a viewer with no team, a leader whose teams hold the whole
    book; asked once per request), so the whole book is what they count. Anyone else counts their customers."""
    return book_tally.kept() and sees_every_customer(user)


def visible_through(user: User, path: str = "customer") -> Q:
    """A filter for rows whose customer (at ``path``, e.g. ``customer``) ``user`` may see: the door of
    ``customers_visible_to``, tested on the row's own customer as it is joined. For rows that join their customer
    anyway (its slice, its dates), so the customers are read once, not a second time for a set of visible ids; and
    for a few rows among many customers (a playbook's open runs), each reading its customer by key, where the
    semi-join of ``of_visible_customers`` reads every customer the person sees (all of them for a leader). Nothing
    to test when a page's door lets ``user`` through to every customer (``page_sees_every_customer``)."""
    if page_sees_every_customer(user):
        # Every row that has a customer: the door lets no row without one through (an eNPS answer has none)
        return Q(**{f"{path}__isnull": False})
    return visible_filter(user, people=tuple(f"{path}__{person}" for person in CUSTOMER_PEOPLE))


def of_visible_customers(model: type[M], user: User) -> QuerySet[M]:
    """Rows of a customer's things (contacts, tasks, reviews…) that ``user`` may see: those of the visible
    customers, as a semi-join on their ids. A join through the customer's people instead makes PostgreSQL
    hash whole customer rows, several times slower for a leader who sees tens of thousands. Built once per person
    object and model, as ``customers_visible_to``; all of those with a customer when a page's door lets ``user``
    through to every customer (``page_sees_every_customer``)."""
    if page_sees_every_customer(user):
        # Every row that has a customer, as the semi-join gives: never one without (an eNPS answer or delivery)
        return model.objects.filter(customer__isnull=False)
    return remembered(
        user,
        ("of_visible_customers", model, request_memo.scope_id()),
        lambda: model.objects.filter(customer__in=customers_visible_to(user).values("pk")),
    ).all()


def customers_of_team(team) -> QuerySet[Customer]:
    """The customers that belong to one team (a ``Team`` or its id), by the rule a leader's scope follows:
    what a team's survey campaign may reach, whoever runs it."""
    return Customer.objects.filter(in_team_filter(team, people=CUSTOMER_PEOPLE))


def customers_changeable_by(user: User) -> QuerySet[Customer]:
    return Customer.objects.filter(changeable_filter(user, people=CUSTOMER_PEOPLE))


def customer_get(user: User, pk: int, *, to_change: bool = False) -> Customer:
    """The customer row alone, with its people: what a form's page or a write starts from. 404 outside what
    ``user`` may see (or, ``to_change``, may change)."""
    customers = customers_changeable_by(user) if to_change else customers_visible_to(user)
    return get_visible_or_404(customers.select_related(*CUSTOMER_PEOPLE), pk=pk)


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    return of_visible_customers(Contact, user)


def subscriptions_visible_to(user: User) -> QuerySet[Subscription]:
    return of_visible_customers(Subscription, user)


def activities_visible_to(user: User) -> QuerySet[Activity]:
    return of_visible_customers(Activity, user)


def tasks_visible_to(user: User) -> QuerySet[Task]:
    return of_visible_customers(Task, user)


def churn_requests_visible_to(user: User) -> QuerySet[ChurnRequest]:
    return of_visible_customers(ChurnRequest, user)


def milestones_visible_to(user: User) -> QuerySet[Milestone]:
    return of_visible_customers(Milestone, user)


def reviews_visible_to(user: User) -> QuerySet[SuccessReview]:
    return of_visible_customers(SuccessReview, user)


def uti_stays_visible_to(user: User) -> QuerySet[UtiStay]:
    return of_visible_customers(UtiStay, user)


def opportunities_visible_to(user: User) -> QuerySet[ExpansionOpportunity]:
    return of_visible_customers(ExpansionOpportunity, user)


def mrr_movements_visible_to(user: User) -> QuerySet[MrrMovement]:
    return of_visible_customers(MrrMovement, user)
