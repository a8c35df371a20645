"""Search from anywhere: customers, contacts and people, through the door.

A CSM finds their customers and those customers' contacts; people are found by the people-visibility rule
of the Team pages (``accounts.selectors.users_visible_to``: admins everyone, leaders the teams they oversee,
everyone else themselves). Matching ignores accents and case on PostgreSQL (``core.search``).
"""

import re
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from accounts.models import User
from accounts.selectors import users_visible_to
from core.search import (
    MIN_TERM,
    ByteOrder,
    folded_contains,
    lower_contains,
    stored_folded_contains,
    stored_folded_starts,
)
from portfolio.models import Contact, Customer
from portfolio.selectors.scope import contacts_visible_to, customers_visible_to, sees_every_customer

KINDS = ("customers", "contacts", "people")
SUGGESTED = 5  # per group, in the box under the search field
PER_GROUP = 10  # per group, on the results page showing every group
PER_PAGE = 25  # on the results page of one group
TRIGRAM = 3  # shorter terms match the start of names only: they hold no trigram for the indexes to look up
# Contacts in name order that the first suggestions are looked for among before every match is read (someone who
# sees every customer: a common term matches a tenth of a large book's contacts).
WALK = 20_000
EMAIL_MARKS = ("@", ".")  # a term with one of them is part of an email: no walk through the names for it


def clean_term(raw: str | None) -> str:
    """The text to look for: trimmed, inner spaces collapsed, at most 100 characters."""
    return " ".join((raw or "").split())[:100]


def _first_where_name_starts(term: str) -> Case:
    """0 for rows whose name starts with the term (what a person typing a name expects first), else 1."""
    return Case(
        When(stored_folded_starts("name_folded", term), then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


def _by_start(qs: QuerySet, term: str) -> QuerySet:
    """Two characters: names that start with them, in folded order (a B-tree on ``name_folded COLLATE "C"``
    walks them in that order, so the first few come without reading every match)."""
    return qs.filter(stored_folded_starts("name_folded", term)).order_by(ByteOrder("name_folded"), "pk")


def customers_matching(user: User, term: str) -> QuerySet[Customer]:
    """Visible customers by name (accents and case ignored), CNPJ digits or exact external id."""
    if len(term) < TRIGRAM:
        return _by_start(customers_visible_to(user).select_related("owner"), term)
    match = stored_folded_contains("name_folded", term)
    digits = re.sub(r"[\s./-]", "", term)  # a CNPJ typed bare or pasted with its dots, slash and dash
    if len(digits) >= 4 and digits.isdigit():
        match |= Q(cnpj__contains=digits)
    match |= Q(external_id=term)
    return (
        customers_visible_to(user)
        .filter(match)
        .select_related("owner")
        .annotate(rank=_first_where_name_starts(term))
        .order_by("rank", "name", "pk")
    )


def _contacts_shown(qs: QuerySet[Contact]) -> QuerySet[Contact]:
    """The columns a result row shows, and its customer's name as ``customer_name``: a subquery PostgreSQL runs
    for the rows kept after the sort and the limit only. Joining the customers instead made it hash every
    customer of the base (50,000) for the 6 rows the box shows."""
    name = Customer.objects.filter(pk=OuterRef("customer_id")).order_by().values("name")[:1]
    return qs.only("pk", "customer_id", "name", "email").annotate(customer_name=Subquery(name))


def contacts_matching(user: User, term: str) -> QuerySet[Contact]:
    """Contacts of visible customers, by name or email: those whose name starts with the term first, then by
    name (folded, in the order of the B-tree on ``name_folded COLLATE "C", id``)."""
    if len(term) < TRIGRAM:
        return _contacts_shown(_by_start(contacts_visible_to(user), term))
    # The email first: PostgreSQL rechecks each row the trigram indexes return, in this order, and a common word
    # (a clinic's domain) matches thousands of emails; an email that matches spares the name's check.
    match = lower_contains("email", term) | stored_folded_contains("name_folded", term)
    return _contacts_shown(
        contacts_visible_to(user)
        .filter(match)
        .annotate(rank=_first_where_name_starts(term))
        .order_by("rank", ByteOrder("name_folded"), "pk")
    )


def first_contacts(user: User, term: str, count: int) -> list[Contact]:
    """The first ``count`` of ``contacts_matching(user, term)``, the same rows in the same order, without reading
    every match of a common term when ``user`` sees every customer (a first name shared by a tenth of a large
    book's contacts: every match read and sorted to show five). Those whose name starts with the term come from
    the B-tree in order and stop at ``count``; if fewer, the others are looked for among the first ``WALK``
    contacts in name order (the same B-tree); only when those too fall short is every match read and sorted, and
    then the matches are few (fewer than ``count`` in ``WALK`` names). Part of an email skips the walk. A CSM's or
    a team's contacts are read as the query says: their matches are theirs, not the book's."""
    matching = contacts_matching(user, term)
    if len(term) < TRIGRAM or not sees_every_customer(user):
        return list(matching[:count])
    rows = list(_contacts_shown(_by_start(Contact.objects.all(), term))[:count])
    if len(rows) == count:
        return rows
    if any(mark in term for mark in EMAIL_MARKS):
        # Part of an email: its matches are emails, which start with their contact's name ("felipe.p"), so they sit
        # together in name order, rarely among the first names; the walk would find none and cost its query.
        return list(matching[:count])
    in_order = Contact.objects.order_by(ByteOrder("name_folded"), "pk").values_list("name_folded", "pk")
    edge = list(in_order[WALK - 1 : WALK])  # the WALK-th contact in name order: the walk ends there
    if edge:
        folded, pk = edge[0]
        within = Q(byte_name__lt=folded) | Q(byte_name=folded, pk__lte=pk)
        others = matching.exclude(stored_folded_starts("name_folded", term)).alias(byte_name=ByteOrder("name_folded"))
        more = list(others.filter(within)[: count - len(rows)])
        if len(rows) + len(more) == count:
            return rows + more
    return list(matching[:count])


def people_matching(user: User, term: str) -> QuerySet[User]:
    """People ``user`` may see, by name or email."""
    match = folded_contains("full_name", term) | lower_contains("email", term)
    return users_visible_to(user).filter(match, is_active=True).order_by("full_name", "pk")


def _matching(user: User, kind: str, term: str) -> QuerySet:
    return {"customers": customers_matching, "contacts": contacts_matching, "people": people_matching}[kind](user, term)


@dataclass(frozen=True)
class SearchGroup:
    kind: str
    rows: list
    has_more: bool  # more rows match than ``rows`` holds


@dataclass(frozen=True)
class SearchResults:
    """What the box under the search field and the results page show: one group per kind of thing."""

    term: str
    too_short: bool
    groups: list[SearchGroup] = field(default_factory=list)
    kind: str = ""  # the results page of one group
    page: Page | None = None

    @property
    def count(self) -> int:
        return sum(len(g.rows) for g in self.groups) if self.page is None else self.page.paginator.count

    @property
    def empty(self) -> bool:
        return not self.too_short and self.count == 0


def search(user: User, raw: str | None, *, per_group: int = SUGGESTED) -> SearchResults:
    """The first ``per_group`` matches of each kind, and whether there are more: one query per kind."""
    term = clean_term(raw)
    if len(term) < MIN_TERM:
        return SearchResults(term=term, too_short=True)
    groups = []
    for kind in KINDS:
        if kind == "contacts":
            rows = first_contacts(user, term, per_group + 1)
        else:
            rows = list(_matching(user, kind, term)[: per_group + 1])
        groups.append(SearchGroup(kind=kind, rows=rows[:per_group], has_more=len(rows) > per_group))
    return SearchResults(term=term, too_short=False, groups=groups)


def search_page(user: User, raw: str | None, *, kind: str = "", page_number: str | int | None = None) -> SearchResults:
    """The results page: every group's first ``PER_GROUP``, or, for one ``kind``, its matches a page at a time."""
    if kind not in KINDS:
        return search(user, raw, per_group=PER_GROUP)
    term = clean_term(raw)
    if len(term) < MIN_TERM:
        return SearchResults(term=term, too_short=True, kind=kind)
    page = Paginator(_matching(user, kind, term), PER_PAGE).get_page(page_number)
    return SearchResults(
        term=term,
        too_short=False,
        groups=[SearchGroup(kind=kind, rows=list(page.object_list), has_more=page.has_next())],
        kind=kind,
        page=page,
    )
