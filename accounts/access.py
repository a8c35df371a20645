"""The one door: what a user may see and change.

Every queryset of customer-facing data is built from :func:`visible_filter`, through a selector of the
app that owns the data (``portfolio.selectors.customers_visible_to`` and friends). Pages fetch objects
with :func:`get_visible_or_404` and the API inherits :class:`accounts.api.base.ScopedViewSetMixin`, so nobody
writes the filter by hand, and an object outside the user's scope answers 404, never 403.

``accounts`` knows nothing about customers: callers say which relations of their rows lead to the
people responsible for them (``people=("owner", "implementation_manager", "farmer")``).

The rules:

* admin (and superusers): everything;
* leader: rows whose primary person (the first of ``people``, the owner) belongs to a team they lead or
  their own team, rows without an owner whose other people (ISM, farmer) belong to it, and their own;
* CSM, ISM, farmer: rows they own, implement or farm;
* viewer: like a leader's scope for their team, read-only; a viewer with no team reads everything.
"""

from collections.abc import Sequence
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import Role, Team, User

NOTHING = Q(pk__in=[])
M = TypeVar("M", bound=Model)


def _any_person(people: Sequence[str], **lookup) -> Q:
    q = Q()
    for path in people:
        for suffix, value in lookup.items():
            q |= Q(**{f"{path}{suffix}": value})
    return q


def scope_team_ids(user: User) -> QuerySet[Team]:
    """The teams whose work the user oversees: the teams they lead, and their own."""
    return Team.objects.filter(Q(leader_id=user.pk) | Q(pk=user.team_id)).values("pk")


def _in_teams(people: Sequence[str], teams) -> Q:
    """Rows that belong to ``teams``: by their owner, or, while they have none, by their other people.

    A customer handed off to another team's CSM leaves the ISM's team even though the ISM still sees it.
    """
    # The teams' people as a subquery of ids, not a join per person: PostgreSQL then tests each row's ids
    # against one small hashed list, several times faster on a leader's tens of thousands of rows.
    members = User.objects.filter(team__in=teams).values("pk")
    owner, others = people[0], people[1:]
    q = Q(**{f"{owner}__in": members})
    if others:
        q |= Q(**{f"{owner}__isnull": True}) & _any_person(others, __in=members)
    return q


def visible_filter(user: User, *, people: Sequence[str]) -> Q:
    """A filter for rows ``user`` may read, given the paths from those rows to their responsible people
    (the owner first)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_admin:
        return Q()
    if user.role == Role.LEADER:
        return _in_teams(people, scope_team_ids(user)) | _any_person(people, **{"": user.pk})
    if user.role == Role.VIEWER:
        if user.team_id is None:
            return Q()
        return _in_teams(people, Team.objects.filter(pk=user.team_id).values("pk"))
    return _any_person(people, **{"": user.pk})


def changeable_filter(user: User, *, people: Sequence[str]) -> Q:
    """A filter for rows ``user`` may change: what they see, unless they only read."""
    if user.is_read_only:
        return NOTHING
    return visible_filter(user, people=people)


def can_write(user: User) -> bool:
    return getattr(user, "is_authenticated", False) and user.is_active and not user.is_read_only


def ensure_can_write(actor: User | None) -> None:
    """The first line of every service that changes data: a read-only person changes nothing. ``None`` is
    Leme itself (a beat job, an event)."""
    if actor is not None and not can_write(actor):
        raise PermissionDenied(_("Your role can read but not change data."))


def can_lead(user: User) -> bool:
    """Admins and leaders: they reassign customers (leaders within their teams) and run survey campaigns."""
    return can_write(user) and (user.is_admin or user.role == Role.LEADER)


can_reassign = can_lead
can_manage_campaigns = can_lead  # survey campaigns: create, start, close; and the employees eNPS asks


def can_read_enps(user: User) -> bool:
    """eNPS (the team's own answers about working here) is read by admins and leaders only."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and (user.is_admin or user.is_leader))


def enps_filter(user: User, *, team: str) -> Q:
    """A filter for eNPS rows ``user`` may count, given the path from a row to the team its person was in when
    surveyed (``team="delivery__team"``): every one for admins; for leaders, those of the teams they oversee;
    none otherwise. Someone in no team counts for admins only."""
    if not can_read_enps(user):
        return NOTHING
    if user.is_admin:
        return Q()
    return Q(**{f"{team}__in": scope_team_ids(user)})


def can_manage_task(actor: User, *, task_owner_id: int) -> bool:
    """Who may move a task's due date (snooze it) or hand it to someone else: its owner, and the admins and leaders
    who oversee it. The task itself must be in the actor's scope: the caller fetched it through the door."""
    return can_write(actor) and (actor.pk == task_owner_id or can_lead(actor))


def can_give_task(actor: User, person: User, *, person_sees_customer: bool) -> bool:
    """Whom ``actor`` may hand a task to: an active person who changes data and sees the task's customer (else
    the task would vanish from their lists); themselves; for admins anyone; for leaders the people of the teams
    they oversee. Everyone else keeps their tasks (they see no colleagues: accounts.selectors.users_visible_to)."""
    if not (person.is_active and not person.is_read_only and person_sees_customer):
        return False
    if person.pk == actor.pk or actor.is_admin:
        return True
    if actor.role == Role.LEADER:
        return person.team_id is not None and scope_team_ids(actor).filter(pk=person.team_id).exists()
    return False


def can_create_customers(user: User) -> bool:
    """New customers come from sales through implementation: admins, leaders and ISMs create them."""
    return can_write(user) and (user.is_admin or user.role in (Role.LEADER, Role.ISM))


def can_import(user: User) -> bool:
    """CSV imports load customers, contacts and subscriptions in bulk: the people who bring customers in
    (admins, leaders, ISMs) run them; a CSM changes their customers one by one, on the page."""
    return can_create_customers(user)


def get_visible_or_404(queryset: QuerySet[M], **lookup) -> M:
    """Fetch one object from an already scoped queryset; outside the scope it does not exist."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc
