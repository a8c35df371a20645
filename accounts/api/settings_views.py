"""The Settings API of accounts (``/api/v1/settings/``): the history of every Settings change, and teams and
people. Admins and leaders read them (a leader their teams' people); admins change teams and people through the
services the Settings page calls (accounts.people_services), which check it again and record every change."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action

from accounts import people_services as services
from accounts.access import ensure_can_manage_people
from accounts.api.base import SettingsViewSet
from accounts.models import Role, SettingChange, Team, User
from accounts.selectors import people_of, teams_with_people
from accounts.settings_selectors import setting_history
from accounts.settings_views import ALL_AREAS

# --- The history ----------------------------------------------------------------------------------------------------


class SettingChangeLineSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()
    effect = serializers.CharField(allow_blank=True)


class SettingChangeSerializer(serializers.ModelSerializer):
    """One change as the Settings pages show it: the words kept in Leme's source language, said in the caller's."""

    subject = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()
    effect = serializers.SerializerMethodField()
    actor_name = serializers.SerializerMethodField(help_text=_("Who made it; empty when Leme itself did."))

    class Meta:
        model = SettingChange
        fields = ["id", "area", "subject", "changes", "effect", "actor", "actor_name", "changed_at"]
        read_only_fields = fields

    def get_subject(self, change) -> str:
        return gettext(change.subject)

    @extend_schema_field(SettingChangeLineSerializer(many=True))
    def get_changes(self, change) -> list[dict]:
        return [
            {
                "field": gettext(line.get("field", "")),
                "before": gettext(line.get("before", "")),
                "after": gettext(line.get("after", "")),
                "effect": gettext(line["effect"]) if line.get("effect") else "",
            }
            for line in change.changes or []
        ]

    def get_effect(self, change) -> str:
        return gettext(change.effect) if change.effect else ""

    def get_actor_name(self, change) -> str:
        return change.actor.full_name if change.actor else ""


class SettingChangeFilter(filters.FilterSet):
    area = filters.ChoiceFilter(choices=[(area, area) for area in ALL_AREAS], help_text="One Settings page's changes.")

    class Meta:
        model = SettingChange
        fields = ["area"]


class SettingHistoryViewSet(mixins.ListModelMixin, SettingsViewSet):
    """Every change made on the Settings pages or through this API, newest first: who, when, what it was and
    became, and what it affects. ``?area=`` keeps one page's."""

    serializer_class = SettingChangeSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = SettingChangeFilter

    def scoped_queryset(self, user):
        return setting_history(user)


# --- Teams and people -----------------------------------------------------------------------------------------------


class PeopleSettingsViewSet(SettingsViewSet):
    def ensure_changer(self, user) -> None:
        ensure_can_manage_people(user)


class SettingsTeamSerializer(serializers.ModelSerializer):
    leader_name = serializers.SerializerMethodField()
    people = serializers.IntegerField(read_only=True, help_text=_("How many active people it has."))

    class Meta:
        model = Team
        fields = ["id", "name", "leader", "leader_name", "people"]
        read_only_fields = fields

    def get_leader_name(self, team) -> str:
        return team.leader.full_name if team.leader else ""


class TeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(label=_("Team name"), max_length=Team._meta.get_field("name").max_length)


class TeamUpdateSerializer(TeamCreateSerializer):
    """A team's name and leader; with PATCH, what is not sent stays as it is."""

    leader = serializers.PrimaryKeyRelatedField(
        label=_("Leader"),
        queryset=User.objects.all(),
        allow_null=True,
        help_text=_("An active person with the Leader role who belongs to the team; null: no leader."),
    )


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PeopleSettingsViewSet):
    """The teams the caller reads (admins every one, a leader theirs), with their leader and how many active people
    each has. Admins create them, rename them and choose their leaders."""

    serializer_class = SettingsTeamSerializer

    def scoped_queryset(self, user):
        return teams_with_people(user).order_by("name", "pk")

    def refreshed(self, team: Team) -> Team:
        return self.get_queryset().get(pk=team.pk)

    @extend_schema(request=TeamCreateSerializer, responses={201: SettingsTeamSerializer})
    def create(self, request):
        team = services.team_create(actor=request.user, **self.validated(TeamCreateSerializer))
        return self.answer(self.refreshed(team), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=TeamUpdateSerializer, responses=SettingsTeamSerializer)
    def update(self, request, pk=None, partial=False):
        """Rename the team, or choose its leader."""
        team = self.changeable_object()
        values = self.merged(team, TeamUpdateSerializer, partial=partial)
        return self.answer(self.refreshed(services.team_update(team=team, actor=request.user, **values)))

    @extend_schema(request=TeamUpdateSerializer, responses=SettingsTeamSerializer)
    def partial_update(self, request, pk=None):
        """Rename the team, or choose its leader."""
        return self.update(request, pk=pk, partial=True)


class SettingsPersonSerializer(serializers.ModelSerializer):
    team_name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "team", "team_name", "is_active", "last_login"]
        read_only_fields = fields

    def get_team_name(self, person) -> str:
        return person.team.name if person.team else ""


class PersonUpdateSerializer(serializers.Serializer):
    """A person's role and team; with PATCH, what is not sent stays as it is."""

    role = serializers.ChoiceField(label=_("Role"), choices=Role.choices)
    team = serializers.PrimaryKeyRelatedField(
        label=_("Team"), queryset=Team.objects.all(), allow_null=True, help_text=_("Null: no team.")
    )


class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PeopleSettingsViewSet):
    """The people the caller reads (admins everyone, a leader their teams' people), active ones first. Admins
    change their role and team, deactivate and reactivate them; their customers stay theirs, and the last active
    admin keeps the Admin role."""

    serializer_class = SettingsPersonSerializer

    def scoped_queryset(self, user):
        return people_of(user).order_by("-is_active", "team__name", "full_name", "pk")

    @extend_schema(request=PersonUpdateSerializer, responses=SettingsPersonSerializer)
    def update(self, request, pk=None, partial=False):
        """Change the person's role or team."""
        person = self.changeable_object()
        values = self.merged(person, PersonUpdateSerializer, partial=partial)
        return self.answer(services.person_update(person=person, actor=request.user, **values))

    @extend_schema(request=PersonUpdateSerializer, responses=SettingsPersonSerializer)
    def partial_update(self, request, pk=None):
        """Change the person's role or team."""
        return self.update(request, pk=pk, partial=True)

    @extend_schema(request=None, responses=SettingsPersonSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """They can no longer log in (their personal API tokens are revoked); their customers stay theirs."""
        person = services.person_set_active(person=self.changeable_object(), active=False, actor=request.user)
        return self.answer(person)

    @extend_schema(request=None, responses=SettingsPersonSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        """They can log in again, with the role and team they had."""
        person = services.person_set_active(person=self.changeable_object(), active=True, actor=request.user)
        return self.answer(person)
