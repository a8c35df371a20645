"""Reads of people and teams, scoped by accounts.access."""

from django.db import models
from django.db.models import Q, QuerySet

from accounts.access import api_tokens_revocable_filter, can_read_people, scope_team_ids
from accounts.models import OWNER_ROLES, ApiToken, Invitation, Role, Team, TokenScope, User


def users_visible_to(user: User) -> QuerySet[User]:
    """The people a user may see on the Team pages: admins everyone, leaders their teams, others themselves."""
    qs = User.objects.select_related("team")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if user.is_admin:
        return qs
    if user.role == Role.LEADER:
        return qs.filter(Q(team__in=scope_team_ids(user)) | Q(pk=user.pk))
    return qs.filter(pk=user.pk)


def teams_visible_to(user: User) -> QuerySet[Team]:
    if user.is_admin:
        return Team.objects.select_related("leader")
    return Team.objects.select_related("leader").filter(pk__in=scope_team_ids(user))


def invitations_open() -> QuerySet[Invitation]:
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).select_related(
        "team", "invited_by"
    )


def csms_company_wide() -> QuerySet[User]:
    """Everyone who can own customers after onboarding; ISMs hand customers to any team."""
    return User.objects.filter(is_active=True, role__in=OWNER_ROLES).select_related("team")


def implementation_managers() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role__in=[Role.ISM, Role.LEADER, Role.ADMIN])


def owner_candidates(user: User) -> QuerySet[User]:
    """Whom ``user`` may make a customer's owner: admins and ISMs (who onboard for every team) anyone who
    owns customers; leaders the people of the teams they oversee; everyone else themselves only."""
    if user.is_admin or user.role == Role.ISM:
        return csms_company_wide()
    return assignable_people(user, roles=OWNER_ROLES)


def assignable_people(user: User, *, roles: tuple[str, ...] = (Role.CSM, Role.LEADER, Role.FARMER, Role.ISM)):
    """Who ``user`` may hand customers to: active people of the teams they oversee (anyone, for admins)."""
    return users_visible_to(user).filter(is_active=True, role__in=roles)


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """A person's live personal tokens, newest first, for their profile page (never the key: it is not stored)."""
    return ApiToken.objects.filter(user=user, scope=TokenScope.FULL, revoked_at__isnull=True)


def api_tokens_revocable_by(user: User) -> QuerySet[ApiToken]:
    """The personal tokens ``user`` may revoke (``access.api_tokens_revocable_filter``)."""
    return ApiToken.objects.filter(api_tokens_revocable_filter(user))


def integration_tokens() -> QuerySet[ApiToken]:
    """The workspace's integration tokens (usage events only), live ones first, with who created them."""
    return (
        ApiToken.objects.filter(scope=TokenScope.USAGE_EVENTS)
        .select_related("user")
        .order_by(models.F("revoked_at").desc(nulls_first=True), "-created_at")
    )


def teams_with_people(user: User) -> QuerySet[Team]:
    """The teams ``user`` may read on the Settings page of teams and people, with their leader and how many
    active people each has (``people``), in one query."""
    if not can_read_people(user):
        return Team.objects.none()
    return teams_visible_to(user).annotate(people=models.Count("members", filter=Q(members__is_active=True)))


def people_of(user: User) -> QuerySet[User]:
    """The people ``user`` may read on the Settings page (admins everyone, leaders their teams' people and
    themselves), active ones first, by team and name, with their team (one query)."""
    if not can_read_people(user):
        return User.objects.none()
    return users_visible_to(user).order_by("-is_active", "team__name", "full_name")
