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
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts import services
from accounts.access import can_manage_integrations, get_visible_or_404
from accounts.emails import digest_unsubscribe_user_id
from accounts.forms import (
    ApiTokenForm,
    InvitationAcceptForm,
    InvitationForm,
    ProfileForm,
    QueuedPasswordResetForm,
    apply_service_errors,
)
from accounts.models import Invitation, Role, TokenScope
from accounts.selectors import (
    api_tokens_of,
    api_tokens_revocable_by,
    integration_tokens,
    invitations_open,
    teams_visible_to,
    users_visible_to,
)
from core import jobs, ratelimit
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


def _announce_invitation(request: HttpRequest, invitation: Invitation, *, again: bool) -> None:
    """One message: sent, or — the job queue unreachable — saved and to be sent on its own."""
    if jobs.put_off_here():
        messages.warning(
            request,
            _(
                "Invitation to %(email)s saved. Leme's job queue cannot be reached right now, so the email will go "
                "out on its own as soon as it is back: there is nothing else to do."
            )
            % {"email": invitation.email},
        )
    elif again:
        messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})


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
            _announce_invitation(request, invitation, again=False)
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
    _announce_invitation(request, invitation, again=True)
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


def _profile_initial(user) -> dict:
    return {
        "full_name": user.full_name,
        "language": user.language,
        "time_zone": user.time_zone,
        "morning_digest": user.wants_digest,
    }


def _profile_page(request: HttpRequest, *, form=None, token_form=None, new_key: str = "", status: int = 200):
    user = request.user
    context = {
        "form": form or ProfileForm(initial=_profile_initial(user)),
        "token_form": token_form or ApiTokenForm(),
        "tokens": api_tokens_of(user),
        "new_key": new_key,
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, initial=_profile_initial(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user.full_name = data["full_name"]
        user.save(update_fields=["full_name"])
        services.user_set_language(user=user, language=data["language"])
        # A choice left as the role has it stays the role's default (a role change then carries it along).
        if "time_zone" in form.changed_data or "morning_digest" in form.changed_data:
            services.user_set_day(user=user, time_zone=data["time_zone"], morning_digest=data["morning_digest"])
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    return _profile_page(request, form=form, status=422 if form.errors else 200)


@csrf_exempt
def digest_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The morning digest's unsubscribe link. A GET (a person's click, or a mail scanner following links) only
    asks; a POST turns the digest off: the page's button, or the mail client's one-click request (RFC 8058,
    ``List-Unsubscribe=One-Click``), which carries no session and no CSRF token, hence the exemption: the signed
    token is what authorises it, and all it can do is stop an email."""
    if request.method == "POST":
        user = services.digest_unsubscribe(token=token)
        status = 200 if user is not None else 404
        return render(request, "accounts/digest_unsubscribe.html", {"done": True, "known": user}, status=status)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    known = digest_unsubscribe_user_id(token) is not None
    return render(
        request, "accounts/digest_unsubscribe.html", {"done": False, "known": known}, status=200 if known else 404
    )


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    """A new personal token: its key is in this answer only (no redirect, nothing kept to show it again)."""
    token_form = ApiTokenForm(request.POST)
    if token_form.is_valid():
        try:
            _token, key = services.api_token_create(
                user=request.user, name=token_form.cleaned_data["name"], actor=request.user
            )
        except ValidationError as exc:
            apply_service_errors(token_form, exc)
        else:
            return _profile_page(request, new_key=key)
    return _profile_page(request, token_form=token_form, status=422)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_pk: int) -> HttpResponse:
    token = get_visible_or_404(api_tokens_revocable_by(request.user), pk=token_pk)
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("The token “%(name)s” was revoked: it no longer works.") % {"name": token.name})
    return redirect("accounts:profile")


def _require_integrations(request: HttpRequest) -> None:
    if not can_manage_integrations(request.user):
        raise PermissionDenied


@login_required
def integrations(request: HttpRequest) -> HttpResponse:
    """Admins: the tokens billing and product systems use to send usage events (for every customer)."""
    _require_integrations(request)
    form = ApiTokenForm(request.POST or None)
    new_key, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, new_key = services.api_token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    actor=request.user,
                    scope=TokenScope.USAGE_EVENTS,
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                form = ApiTokenForm()
        if form.errors:
            status = 422
    context = {"form": form, "tokens": integration_tokens(), "new_key": new_key}
    return render(request, "accounts/integrations.html", context, status=status)


@login_required
@require_POST
def integration_revoke(request: HttpRequest, integration_pk: int) -> HttpResponse:
    _require_integrations(request)
    token = get_visible_or_404(integration_tokens(), pk=integration_pk)
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("The token “%(name)s” was revoked: it no longer works.") % {"name": token.name})
    return redirect("accounts:integrations")


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
