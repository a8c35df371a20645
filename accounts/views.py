import contextlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.access import get_visible_or_404
from accounts.forms import (
    InvitationAcceptForm,
    InvitationForm,
    ProfileForm,
    QueuedPasswordResetForm,
    apply_service_errors,
)
from accounts.models import Invitation, Role
from accounts.selectors import invitations_open, teams_visible_to, users_visible_to
from core import ratelimit
from core.clientip import client_address
from core.htmx import wants_fragment


def _require_admin(request: HttpRequest) -> None:
    if not request.user.is_admin:
        raise PermissionDenied


def _require_team_viewer(request: HttpRequest) -> None:
    if not (request.user.is_admin or request.user.role == Role.LEADER):
        raise PermissionDenied


@login_required
def team(request: HttpRequest) -> HttpResponse:
    """The people a leader leads (an admin: everyone), and the invitations still open."""
    _require_team_viewer(request)
    people = users_visible_to(request.user).order_by("team__name", "full_name")
    context = {
        "people": people,
        "teams": teams_visible_to(request.user),
        "invitations": invitations_open() if request.user.is_admin else [],
        "form": InvitationForm() if request.user.is_admin else None,
    }
    return render(request, "accounts/team.html", context)


@login_required
def invite(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(invited_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = request.build_absolute_uri("/team/")
                return response
            return redirect("accounts:team")
    template = "accounts/invite.html#invite-form" if wants_fragment(request) else "accounts/invite.html"
    return render(request, template, {"form": form}, status=422 if form.errors else 200)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    invitation = get_visible_or_404(invitations_open(), pk=pk)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    return redirect("accounts:team")


@login_required
@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    invitation: Invitation = get_visible_or_404(invitations_open(), pk=pk)
    services.invitation_create(
        email=invitation.email,
        role=invitation.role,
        team=invitation.team,
        full_name=invitation.full_name,
        language=invitation.language,
        invited_by=request.user,
    )
    messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
    return redirect("accounts:team")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the invited person chooses a name and password, and is logged in."""
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationInvalid as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": exc.reason}, status=410)
    form = InvitationAcceptForm(request.POST or None, initial={"full_name": invitation.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token, full_name=form.cleaned_data["full_name"], password=form.cleaned_data["password1"]
            )
        except services.InvitationInvalid as exc:
            return render(request, "accounts/invitation_invalid.html", {"reason": exc.reason}, status=410)
        except ValidationError as exc:
            form.add_error("password1", exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Leme, %(name)s.") % {"name": user.get_short_name()})
            return redirect("home")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=422 if form.errors else 200,
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, initial={"full_name": user.full_name, "language": user.language})
    if request.method == "POST" and form.is_valid():
        user.full_name = form.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])
        services.user_set_language(user=user, language=form.cleaned_data["language"])
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    token = Token.objects.filter(user=user).first()
    return render(request, "accounts/profile.html", {"form": form, "token": token}, status=422 if form.errors else 200)


@login_required
@require_POST
def api_token_regenerate(request: HttpRequest) -> HttpResponse:
    Token.objects.filter(user=request.user).delete()
    Token.objects.create(user=request.user)
    messages.success(request, _("A new API token was created; the old one no longer works."))
    return redirect("accounts:profile")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch language: the cookie for everyone, and the profile for a logged-in user."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated:
        with contextlib.suppress(ValidationError):
            services.user_set_language(user=request.user, language=language)
    return set_language(request)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, at most ``LEME_PASSWORD_RESET_RATES["address"]`` requests per client address
    (then 429, whatever the email); the per-email limit is the service's, and says nothing."""

    form_class = QueuedPasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"

    def post(self, request, *args, **kwargs):
        verdict = ratelimit.hit(
            "password-reset-address", client_address(request), settings.LEME_PASSWORD_RESET_RATES["address"]
        )
        if not verdict.allowed:
            return too_many_requests(request, verdict)
        return super().post(request, *args, **kwargs)


def too_many_requests(request: HttpRequest, verdict: ratelimit.Verdict) -> HttpResponse:
    """429 with Retry-After and a page that says how long to wait, in the person's language."""
    response = render(request, "429.html", {"minutes": verdict.retry_after_minutes}, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response
