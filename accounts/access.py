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

Survey campaigns belong to a team (or to the whole company): :func:`campaigns_filter` says who sees them,
:func:`campaigns_managed_filter` who starts, closes and changes them (a leader their teams', an admin every one;
company-wide ones only admins), and :func:`in_team_filter` which customers a team's campaign may reach. The
imported employees eNPS asks follow :func:`employees_filter`.
"""

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import Role, Team, TokenScope, User
from core import request_memo

NOTHING = Q(pk__in=[])
M = TypeVar("M", bound=Model)
T = TypeVar("T")


def _any_person(people: Sequence[str], **lookup) -> Q:
    q = Q()
    for path in people:
        for suffix, value in lookup.items():
            q |= Q(**{f"{path}{suffix}": value})
    return q


def scope_team_ids(user: User) -> QuerySet[Team]:
    """The teams whose work the user oversees: the teams they lead, and their own."""
    return Team.objects.filter(Q(leader_id=user.pk) | Q(pk=user.team_id)).values("pk")


def _members(teams, key: Hashable | None):
    """The people of ``teams``. Within a request, and given a ``key`` naming that set of teams, their ids read once
    for the request (``core.request_memo``): a short literal list, which the rows' people indexes serve and each row
    tests without a subquery (a leader of one team among several: her per-CSM panel 165 -> 115 ms on 100,000
    customers); a change of team after the request began reaches the next request. Otherwise a subquery of ids,
    read when each query runs (nothing kept outlives the request)."""
    query = User.objects.filter(team__in=teams).values("pk")
    if key is None or not request_memo.in_request():
        return query
    return request_memo.once(("team_members", key), lambda: list(query.values_list("pk", flat=True)))


def _in_teams(people: Sequence[str], teams, key: Hashable | None = None) -> Q:
    """Rows that belong to ``teams``: by their owner, or, while they have none, by their other people.

    A customer handed off to another team's CSM leaves the ISM's team even though the ISM still sees it.
    """
    # The teams' people as a list or subquery of ids (``_members``), not a join per person: PostgreSQL then tests
    # each row's ids against one small hashed list, several times faster on a leader's tens of thousands of rows.
    members = _members(teams, key)
    owner, others = people[0], people[1:]
    q = Q(**{f"{owner}__in": members})
    if others:
        q |= Q(**{f"{owner}__isnull": True}) & _any_person(others, __in=members)
    return q


class _DoorMemo(dict):
    """What :func:`remembered` keeps on a person, for the ``state`` of the person it was built for: dropped, never
    carried, when the person is copied or pickled (pickling a queryset would run it)."""

    def __init__(self, state: tuple | None = None) -> None:
        super().__init__()
        self.state = state

    def __reduce__(self):
        return (_DoorMemo, ())


def _door_state(user) -> tuple:
    """What the door reads from the person object itself: anything that changes it changes what it builds."""
    return (
        user.pk,
        getattr(user, "is_active", False),
        getattr(user, "is_superuser", False),
        getattr(user, "role", None),
        getattr(user, "team_id", None),
    )


def remembered(user: User, key, build: Callable[[], T]) -> T:
    """``build()``, made once per person object and ``key``: the door's filters and the scoped querysets the
    selectors start from, which a page (My day) builds for a dozen lists, each time with the subqueries of a
    leader's teams and their people. Kept on the person (a request loads them once, so it lasts one request)
    and rebuilt when their role, team, active or superuser flag changes on it. Outside a request what is kept holds
    no ids read from the database (the teams and their people are subqueries, read when each query runs, so a new
    member or leader is seen at once); within one, callers key what holds ids read for it by the request
    (``core.request_memo.scope_id``). Callers must not change what they get (a queryset: chain from it, ``.all()``)."""
    state = _door_state(user)
    memo = getattr(user, "_door_memo", None)
    if memo is None or memo.state != state:
        memo = _DoorMemo(state)
        user._door_memo = memo
    try:
        return memo[key]
    except KeyError:
        memo[key] = value = build()
        return value


def visible_filter(user: User, *, people: Sequence[str]) -> Q:
    """A filter for rows ``user`` may read, given the paths from those rows to their responsible people
    (the owner first). Built once per person and ``people`` (:func:`remembered`): do not change it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if sees_every_row_by_rule(user):
        return Q()
    people = tuple(people)
    # Within a request the filter holds its team's people's ids (``_members``): keyed by the request, so a person
    # object kept longer never reuses it.
    key = ("visible_filter", people, request_memo.scope_id())
    return remembered(user, key, lambda: _visible_filter(user, people))


def _scope_teams(user: User) -> tuple[QuerySet[Team], tuple] | None:
    """The teams a scope made of teams reads (a leader's: those she leads and her own; a team viewer's: theirs),
    and a key naming that set for the request's memo; None for anyone else (their scope is their own rows)."""
    if user.role == Role.LEADER:
        return scope_team_ids(user), ("leader", user.pk, user.team_id)
    if user.role == Role.VIEWER:
        return Team.objects.filter(pk=user.team_id).values("pk"), ("viewer", user.team_id)
    return None


def _visible_filter(user: User, people: tuple[str, ...]) -> Q:
    teams = _scope_teams(user)
    if teams is None:
        return _any_person(people, **{"": user.pk})
    in_teams = _in_teams(people, *teams)
    if user.role == Role.LEADER:  # and her own rows, whatever team they are in
        return in_teams | _any_person(people, **{"": user.pk})
    return in_teams


def sees_every_row_by_rule(user: User) -> bool:
    """Admins and a viewer with no team see every row, whoever is responsible for it: their
    :func:`visible_filter` filters nothing. Anyone else sees every row only when their scope happens to cover
    them all (a leader whose teams are responsible for every customer), which only counting the rows tells: a
    page that keeps a figure for everyone (``health.HealthBandTally``) compares the rows in scope with all of
    them in one statement before it reads that figure."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_admin or (user.role == Role.VIEWER and user.team_id is None))
    )


def may_see_every_row(user: User) -> bool:
    """Whether ``user``'s scope can cover every row: by rule (:func:`sees_every_row_by_rule`), or because it is
    their teams' and their teams may be responsible for every row (leaders, a viewer of a team). A CSM, ISM or
    farmer sees the rows they are responsible for themselves: a page need not count whether that is all of them."""
    return sees_every_row_by_rule(user) or bool(
        getattr(user, "is_authenticated", False) and user.is_active and user.role in (Role.LEADER, Role.VIEWER)
    )


def outside_candidates_filter(user: User, *, people: Sequence[str]) -> Q:
    """A filter that holds every row ``user`` may not see (and perhaps some they may), stated on the rows' first
    person (the owner) alone, so its index finds them: rows without one, or whose one belongs to none of the teams
    ``user``'s scope reads. For a query that must prove nobody is outside the scope: test the door
    (:func:`visible_filter`) on these few rows instead of on every row. Only for a scope made of teams (a leader,
    a viewer of a team); anyone else's scope is their own rows (the filter is then every row)."""
    if sees_every_row_by_rule(user):
        return NOTHING
    teams = _scope_teams(user)
    if teams is None:
        return Q()
    # A short literal list (the people outside the teams), not a subquery: the owner's index then finds the rows.
    outsiders = list(User.objects.exclude(team__in=teams[0]).values_list("pk", flat=True))
    owner = people[0]
    return Q(**{f"{owner}__isnull": True}) | Q(**{f"{owner}__in": outsiders})


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
# Survey campaigns: create, start, close (each within the teams a leader oversees, see campaigns_managed_filter);
# and the employees eNPS asks (employees_filter).
can_manage_campaigns = can_lead


def _team_pk(team) -> int | None:
    return getattr(team, "pk", team)


def in_team_filter(team, *, people: Sequence[str]) -> Q:
    """Rows that belong to one team (a ``Team`` or its id), by the same rule as a leader's scope: their owner is
    in it, or, while they have none, their other people are. What a team's survey campaign may reach."""
    return _in_teams(people, Team.objects.filter(pk=_team_pk(team)).values("pk"))


def campaigns_filter(user: User, *, team: str = "team") -> Q:
    """Survey campaigns ``user`` may see, given the path to the campaign's team (null: company-wide). A campaign
    belongs to a team and reaches only that team's customers: admins see every one; leaders the company-wide
    ones and those of the teams they oversee; everyone else the company-wide ones and their own team's (a viewer
    with no team reads everything, as customers)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_admin or (user.role == Role.VIEWER and user.team_id is None):
        return Q()
    company_wide = Q(**{f"{team}__isnull": True})
    if user.role == Role.LEADER:
        return company_wide | Q(**{f"{team}__in": scope_team_ids(user)})
    if user.team_id is None:
        return company_wide
    return company_wide | Q(**{f"{team}": user.team_id})


def campaigns_managed_filter(user: User, *, team: str = "team") -> Q:
    """Campaigns ``user`` may change (start, close, edit): admins every one, company-wide ones included;
    leaders those of the teams they oversee; nobody else any."""
    if not can_manage_campaigns(user):
        return NOTHING
    if user.is_admin:
        return Q()
    return Q(**{f"{team}__in": scope_team_ids(user)})


def campaign_teams(user: User) -> QuerySet[Team]:
    """The teams ``user`` may give a campaign to (admins may also leave it company-wide: no team)."""
    if not can_manage_campaigns(user):
        return Team.objects.none()
    if user.is_admin:
        return Team.objects.all()
    return Team.objects.filter(pk__in=scope_team_ids(user))


def can_manage_campaign_team(user: User, team) -> bool:
    """Whether ``user`` may create or change a campaign of ``team`` (a ``Team``, its id, or None for
    company-wide, which only admins may)."""
    if not can_manage_campaigns(user):
        return False
    if user.is_admin:
        return True
    team_id = _team_pk(team)
    return team_id is not None and campaign_teams(user).filter(pk=team_id).exists()


def default_campaign_team(user: User) -> Team | None:
    """The team a campaign gets when its creator names none: a leader's own team (else the first they lead);
    None (company-wide) for admins and for Leme itself."""
    if user is None or user.is_admin or not can_manage_campaigns(user):
        return None
    if user.team_id is not None:
        return user.team
    return Team.objects.filter(leader_id=user.pk).order_by("pk").first()


def employees_filter(user: User, *, team: str = "team") -> Q:
    """The imported employees (eNPS) ``user`` may list and change: admins all of them; leaders those of the
    teams they oversee (someone in no team is the admins'); nobody else any."""
    if not can_manage_campaigns(user):
        return NOTHING
    if user.is_admin:
        return Q()
    return Q(**{f"{team}__in": scope_team_ids(user)})


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


def can_override_health(user: User) -> bool:
    """Who may override a customer's health band (and end an override): anyone who may change the customer,
    that is anyone who writes, on the customers the door lets them change. A read-only person only reads it."""
    return can_write(user)


def can_edit_health_profiles(user: User) -> bool:
    """The health score's rules (measures, weights, thresholds, bands) are the workspace's configuration: admins
    change them; everyone else reads them."""
    return can_write(user) and user.is_admin


def can_read_health_backtest(user: User) -> bool:
    """Whether the score predicts churn is a question for the people who tune it and those who run the team:
    admins and leaders (each over the customers they see)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and (user.is_admin or user.is_leader))


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


def own_rows_filter(user: User, *, person: str = "person") -> Q:
    """Rows that are one person's own preferences (their saved portfolio views): only that person sees and
    changes them, whatever their role; a read-only person keeps theirs too (they change no customer data)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    return Q(**{f"{person}_id": user.pk})


def can_change_own_row(user: User, *, person_id: int) -> bool:
    return getattr(user, "is_authenticated", False) and user.is_active and user.pk == person_id


def can_create_customers(user: User) -> bool:
    """New customers come from sales through implementation: admins, leaders and ISMs create them."""
    return can_write(user) and (user.is_admin or user.role in (Role.LEADER, Role.ISM))


def can_import(user: User) -> bool:
    """CSV imports load customers, contacts and subscriptions in bulk: the people who bring customers in
    (admins, leaders, ISMs) run them; a CSM changes their customers one by one, on the page."""
    return can_create_customers(user)


def can_read_unit_economics(user: User) -> bool:
    """CAC, LTV:CAC and CAC payback are workspace figures (the spend is entered per workspace month, not per
    team): admins, leaders and viewers, who compare CSMs, read them and the spend behind them; a CSM does not."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_admin or user.role in (Role.LEADER, Role.VIEWER))
    )


def sees_every_person(user: User) -> bool:
    """Who compares people on the metrics page (per CSM, per ISM): admins, leaders and viewers, over the customers
    they see. Anyone else reads their own row against their team's median, never a colleague's row."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_admin or user.role in (Role.LEADER, Role.VIEWER))
    )


def can_enter_spend(user: User) -> bool:
    """The sales and marketing spend (CAC's numerator) is entered by admins and leaders: the page, the API, a CSV."""
    return can_lead(user)


def can_set_gross_margin(user: User) -> bool:
    """The gross margin is a workspace setting (LTV and CAC payback use it): admins only."""
    return can_write(user) and user.is_admin


def get_visible_or_404(queryset: QuerySet[M], **lookup) -> M:
    """Fetch one object from an already scoped queryset; outside the scope it does not exist."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


# --- API tokens -----------------------------------------------------------------------------------------------


def token_allows(token_scope: str | None, endpoint_scope: str | None) -> bool:
    """Whether a call authenticated with a token of ``token_scope`` may reach an API endpoint that declares
    ``endpoint_scope`` (its ``token_scope`` attribute; most declare none). A ``full`` token (and a logged-in
    session, ``None``) reaches every endpoint, its person's role and the door deciding the rest; a
    ``usage_events`` token reaches only the endpoints of that scope (``POST /api/v1/usage-events/``): any other
    route answers 403, whatever the token's creator could do."""
    if token_scope is None or token_scope == TokenScope.FULL:
        return True
    return endpoint_scope == token_scope


def can_manage_integrations(user: User) -> bool:
    """Integration tokens (usage events for every customer) are created and revoked by admins."""
    return can_write(user) and user.is_admin


def api_tokens_revocable_filter(user: User) -> Q:
    """A filter for the personal (``full``) API tokens ``user`` may revoke: their own; a leader's also those of
    the people of the teams they lead; an admin's, everyone's. Integration tokens: :func:`can_manage_integrations`."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    own = Q(user_id=user.pk, scope=TokenScope.FULL)
    if user.is_read_only:
        return own
    if user.is_admin:
        return Q(scope=TokenScope.FULL)
    if user.role == Role.LEADER:
        return own | (Q(scope=TokenScope.FULL) & _in_teams(("user",), scope_team_ids(user)))
    return own


def sends_usage_for_every_customer(token_scope: str | None) -> bool:
    """Usage events sent with an integration token (made by an admin) may name any customer; sent as a person
    (a ``full`` token, a session, a CSV import), only customers that person sees (``visible_filter``): another
    team's customer is unknown to them."""
    return token_scope == TokenScope.USAGE_EVENTS


def team_shared_filter(user: User, *, team: str) -> Q:
    """A filter for things a team shares among its people (playbooks), given the path to their team (empty
    for company-wide ones): admins, and viewers in no team, read every one; everyone else reads the
    company-wide ones and those of the teams they are in or lead."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_admin or (user.role == Role.VIEWER and user.team_id is None):
        return Q()
    return Q(**{f"{team}__isnull": True}) | Q(**{f"{team}__in": scope_team_ids(user)})


def can_edit_playbooks(user: User, team_id: int | None = None) -> bool:
    """Playbooks are edited, published and paused by admins (any, company-wide ones included) and by leaders
    (their teams' only); ``team_id`` None is a company-wide playbook, which only admins edit."""
    if not can_lead(user):
        return False
    if user.is_admin:
        return True
    if team_id is None:
        return False
    return team_id == user.team_id or Team.objects.filter(pk=team_id, leader_id=user.pk).exists()


def can_author_playbooks(user: User) -> bool:
    """Whether the person may create playbooks at all (admins and leaders)."""
    return can_lead(user)


# --- Settings ----------------------------------------------------------------------------------------------------


def can_read_settings(user: User) -> bool:
    """The Settings pages (journey policies, churn reasons, survey defaults) are the workspace's configuration:
    admins and leaders read them, and the history of their changes; everyone else works with what they say."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and (user.is_admin or user.is_leader))


def can_change_settings(user: User) -> bool:
    """The workspace's configuration applies to every team alike, so only admins change it (a leader reads it)."""
    return can_write(user) and user.is_admin


def ensure_can_change_settings(actor: User | None) -> None:
    """The first line of every service that changes the workspace's settings (``None`` is Leme itself)."""
    ensure_can_write(actor)
    if actor is not None and not can_change_settings(actor):
        raise PermissionDenied(_("Only admins change the workspace's settings."))


# --- Teams and people ----------------------------------------------------------------------------------------------


def can_read_people(user: User) -> bool:
    """The Settings page of teams and people: admins read everyone; leaders read the people of the teams they
    oversee (``accounts.selectors.users_visible_to``); nobody else reads it."""
    return can_read_settings(user)


def can_manage_people(user: User) -> bool:
    """Creating and renaming teams, choosing their leaders, changing a person's role and team, deactivating and
    reactivating people: admins only (a leader reads their team's people)."""
    return can_write(user) and user.is_admin


def ensure_can_manage_people(actor: User | None) -> None:
    """The first line of every service that changes teams and people (``None`` is Leme itself)."""
    ensure_can_write(actor)
    if actor is not None and not can_manage_people(actor):
        raise PermissionDenied(_("Only admins change teams and people."))


def can_lead_team(person: User, team) -> bool:
    """Who may lead ``team`` (a ``Team`` or its id): an active person with the Leader role who belongs to it (a
    leader's scope follows their role and their team: anyone else would lead it in name only)."""
    return person.is_active and person.role == Role.LEADER and person.team_id == _team_pk(team)


def is_last_admin(person: User) -> bool:
    """Whether ``person`` is the only active admin left: they can be neither deactivated nor given another role,
    or nobody could manage the workspace any more."""
    if not (person.is_active and person.is_admin):
        return False
    others = User.objects.filter(is_active=True).filter(Q(role=Role.ADMIN) | Q(is_superuser=True))
    return not others.exclude(pk=person.pk).exists()
