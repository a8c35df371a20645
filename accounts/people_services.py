"""Teams and people, changed on the Settings page: create and rename teams, choose their leaders, change a
person's role and team, deactivate and reactivate people.

Every change is the admins' (``accounts.access.can_manage_people``), checked here so the page and any other caller
share the rule, and recorded in the Settings history with who, when and what it affects. Nothing here touches a
customer: a person who moves to another team or is deactivated keeps their customers (the portfolio lists those
of deactivated people as needing a new owner; an admin or leader reassigns them)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from accounts.access import can_lead_team, ensure_can_manage_people, is_last_admin
from accounts.models import Role, Team, User
from accounts.services import api_tokens_revoke_all
from accounts.settings_services import setting_change_record

PEOPLE = "people"

NEW_TEAM_EFFECT = gettext_lazy("People can be moved into it; its leader sees their customers.")
RENAME_EFFECT = gettext_lazy("Only the name changes: its people, customers and campaigns stay.")
LEADER_EFFECT = gettext_lazy(
    "The new leader sees and reassigns the team's customers from now on; the former one no longer does."
)
TEAM_MOVE_EFFECT = gettext_lazy(
    "A person moved to another team keeps their customers; the new team's leader sees them from now on."
)
ROLE_EFFECT = gettext_lazy("What they see and change follows the new role from their next page.")
DEACTIVATE_EFFECT = gettext_lazy(
    "They can no longer log in; their customers stay theirs and are listed as needing a new owner."
)
REACTIVATE_EFFECT = gettext_lazy("They can log in again, with the role and team they had.")
NO_LONGER_LEADS_EFFECT = gettext_lazy("The team has no leader until an admin chooses one.")


def _clean_name(name: str, *, team: Team | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the team a name.")})
    if len(name) > 100:
        raise ValidationError({"name": _("At most 100 characters.")})
    others = Team.objects.filter(name__iexact=name)
    if team is not None:
        others = others.exclude(pk=team.pk)
    if others.exists():
        raise ValidationError({"name": _("Another team already has this name.")})
    return name


@transaction.atomic
def team_create(*, name: str, actor: User | None) -> Team:
    """A new team, with no people and no leader yet: move people into it, then choose its leader."""
    ensure_can_manage_people(actor)
    team = Team.objects.create(name=_clean_name(name))
    setting_change_record(
        area=PEOPLE,
        subject=team.name,
        changes=[(gettext_noop("team"), None, team.name)],
        effect=NEW_TEAM_EFFECT,
        actor=actor,
    )
    return team


@transaction.atomic
def team_update(*, team: Team, name: str, leader: User | None, actor: User | None) -> Team:
    """Rename ``team`` and choose its leader (None: no leader). The leader must be an active Leader of the team."""
    ensure_can_manage_people(actor)
    team = Team.objects.select_for_update(of=("self",)).select_related("leader").get(pk=team.pk)
    name = _clean_name(name, team=team)
    if leader is not None:
        leader = User.objects.get(pk=leader.pk)  # as they are now, not as the caller last read them
    # Only a new leader is checked: a team led before this rule existed can still be renamed.
    if leader is not None and leader.pk != team.leader_id and not can_lead_team(leader, team):
        raise ValidationError(
            {"leader": _("A team's leader must be an active person with the Leader role who belongs to the team.")}
        )
    before_name, before_leader = team.name, team.leader
    team.name, team.leader = name, leader
    team.save(update_fields=["name", "leader"])
    setting_change_record(
        area=PEOPLE,
        subject=team.name,
        changes=[
            (gettext_noop("name"), before_name, name, RENAME_EFFECT),
            (gettext_noop("leader"), before_leader, leader, LEADER_EFFECT),
        ],
        actor=actor,
    )
    return team


def _check_keeps_leading(person: User, *, role: str, team: Team | None) -> None:
    """A person who leads a team must stay an active Leader of it: an admin chooses another leader first."""
    led = [t for t in Team.objects.filter(leader=person) if not (role == Role.LEADER and team and team.pk == t.pk)]
    if led:
        raise ValidationError(
            _("%(name)s leads %(teams)s: choose another leader for it first.")
            % {"name": person.full_name, "teams": ", ".join(t.name for t in led)}
        )


@transaction.atomic
def person_update(*, person: User, role: str, team: Team | None, actor: User | None) -> User:
    """Change a person's role and team. Their customers stay theirs; the last active admin keeps the Admin role;
    someone who leads a team stays its Leader until another is chosen."""
    ensure_can_manage_people(actor)
    person = User.objects.select_for_update(of=("self",)).select_related("team").get(pk=person.pk)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role != Role.ADMIN and not person.is_superuser and is_last_admin(person):
        message = _("%(name)s is the last admin: make someone else an admin first.") % {"name": person.full_name}
        raise ValidationError({"role": message})
    _check_keeps_leading(person, role=role, team=team)
    before_role, before_team = person.role, person.team
    person.role, person.team = role, team
    person.save(update_fields=["role", "team"])
    setting_change_record(
        area=PEOPLE,
        subject=person.full_name or person.email,
        changes=[
            (gettext_noop("role"), Role(before_role).label, Role(role).label, ROLE_EFFECT),
            (gettext_noop("team"), before_team, team, TEAM_MOVE_EFFECT),
        ],
        actor=actor,
    )
    return person


@transaction.atomic
def person_set_active(*, person: User, active: bool, actor: User | None) -> User:
    """Deactivate a person (they can no longer log in; their personal API tokens are revoked, so coming back
    means making new ones) or reactivate them. Their customers are not reassigned. Nobody deactivates themselves
    nor the last active admin; a deactivated leader stops leading their teams."""
    ensure_can_manage_people(actor)
    person = User.objects.select_for_update().get(pk=person.pk)
    if person.is_active == active:
        return person
    if not active:
        if actor is not None and actor.pk == person.pk:
            raise ValidationError(_("You cannot deactivate yourself: ask another admin."))
        if is_last_admin(person):
            raise ValidationError(
                _("%(name)s is the last admin: make someone else an admin first.") % {"name": person.full_name}
            )
        for team in Team.objects.select_for_update().filter(leader=person):
            team.leader = None
            team.save(update_fields=["leader"])
            setting_change_record(
                area=PEOPLE,
                subject=team.name,
                changes=[(gettext_noop("leader"), person, None, NO_LONGER_LEADS_EFFECT)],
                actor=actor,
            )
        api_tokens_revoke_all(user=person)
    person.is_active = active
    person.save(update_fields=["is_active"])
    setting_change_record(
        area=PEOPLE,
        subject=person.full_name or person.email,
        changes=[(gettext_noop("active"), not active, active)],
        effect=REACTIVATE_EFFECT if active else DEACTIVATE_EFFECT,
        actor=actor,
    )
    return person
