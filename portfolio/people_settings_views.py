"""The Settings page of teams and people. The rules and the history are accounts' (accounts.access,
accounts.people_services); the page lives here because it also counts each team's customers and lists those whose
owner was deactivated, which accounts, below the portfolio, cannot read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import people_services as services
from accounts.access import can_lead_team, can_manage_people, can_read_people
from accounts.forms import apply_service_errors
from accounts.models import Role
from accounts.people_forms import PersonActiveForm, PersonForm, TeamCreateForm, TeamForm
from accounts.selectors import people_of, teams_with_people, users_visible_to
from accounts.settings_selectors import setting_changes
from accounts.settings_views import settings_context
from portfolio.people_settings_selectors import customers_needing_owner, customers_per_team


def _require_reader(request: HttpRequest) -> None:
    if not can_read_people(request.user):
        raise PermissionDenied


def _require_manager(request: HttpRequest) -> None:
    _require_reader(request)
    if not can_manage_people(request.user):
        raise PermissionDenied


def _page(request: HttpRequest, *, error_form=None, create_form=None, status: int = 200) -> HttpResponse:
    user = request.user
    teams = list(teams_with_people(user))
    people = list(people_of(user))
    counts = customers_per_team(user)
    leaders_by_team: dict[int, list] = {}
    for person in people:
        if person.team_id is not None and can_lead_team(person, person.team_id):
            leaders_by_team.setdefault(person.team_id, []).append(person)
    rows = []
    for team in teams:
        choices = leaders_by_team.get(team.pk, [])
        if team.leader is not None and team.leader not in choices:
            choices = [team.leader, *choices]
        rows.append({"team": team, "customers": counts.get(team.pk, 0), "leader_choices": choices})
    context = settings_context(
        request,
        "people",
        team_rows=rows,
        people=people,
        all_teams=teams,
        roles=Role.choices,
        needing_owner=list(customers_needing_owner(user)[:50]),
        error_form=error_form,
        create_form=create_form or TeamCreateForm(),
        can_change=can_manage_people(user),
        history=setting_changes(user=user, areas=(services.PEOPLE,)),
    )
    return render(request, "settings/people.html", context, status=status)


@login_required
def people(request: HttpRequest) -> HttpResponse:
    """Teams (leader, people, customers) and people (email, role, team, active, last log-in). Admins change them
    here; a leader reads their teams' people."""
    _require_reader(request)
    return _page(request)


def _done(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("people_settings:people")


@login_required
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = TeamCreateForm(request.POST)
    if form.is_valid():
        try:
            team = services.team_create(name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _done(request, _("Team “%(team)s” created.") % {"team": team.name})
    return _page(request, create_form=form, status=422)


@login_required
@require_POST
def team_update(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = TeamForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            team = services.team_update(team=data["team"], name=data["name"], leader=data["leader"], actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _done(request, _("Team “%(team)s” saved.") % {"team": team.name})
    return _page(request, error_form=form, status=422)


@login_required
@require_POST
def person_update(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = PersonForm(request.POST)
    form.fields["person"].queryset = users_visible_to(request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            person = services.person_update(
                person=data["person"], role=data["role"], team=data["team"], actor=request.user
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _done(request, _("%(name)s saved.") % {"name": person.full_name})
    return _page(request, error_form=form, status=422)


@login_required
@require_POST
def person_active(request: HttpRequest) -> HttpResponse:
    """Deactivate (``active=0``) or reactivate (``active=1``) a person; their customers are not reassigned."""
    _require_manager(request)
    form = PersonActiveForm(request.POST)
    form.fields["person"].queryset = users_visible_to(request.user)
    if form.is_valid():
        person, active = form.cleaned_data["person"], form.cleaned_data["active"]
        try:
            services.person_set_active(person=person, active=active, actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if active:
                return _done(request, _("%(name)s can log in again.") % {"name": person.full_name})
            return _done(
                request,
                _("%(name)s was deactivated: their customers wait for a new owner.") % {"name": person.full_name},
            )
    return _page(request, error_form=form, status=422)
