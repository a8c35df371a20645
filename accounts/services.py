"""Every write about people: users, teams, invitations, password resets.

Emails go out from tasks (accounts.tasks, which build them with accounts.emails) queued after commit;
this module imports the tasks, and nothing there imports it back."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import tasks
from accounts.emails import INVITATION_SALT
from accounts.models import Invitation, Role, Team, User
from core import jobs


class InvitationInvalid(Exception):
    """An invitation link that cannot be used; ``reason`` is shown to the person who clicked it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def user_create(
    *,
    email: str,
    full_name: str,
    role: str = Role.CSM,
    team: Team | None = None,
    password: str | None = None,
    language: str = "pt-br",
    is_staff: bool = False,
) -> User:
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("Someone already uses this email address.")})
    return User.objects.create_user(
        email, password, full_name=full_name, role=role, team=team, language=language, is_staff=is_staff
    )


def password_reset_request(*, email: str) -> None:
    """Email a password reset link to the active account with this address, if there is one; the page says
    the same either way. Only the user's id is queued: the worker makes the link when it sends."""
    for user in User.objects.filter(email__iexact=email, is_active=True):
        if user.has_usable_password():
            jobs.queue_on_commit(tasks.password_reset_send, user.pk, notify=False)


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unknown language.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


# --- Invitations ---------------------------------------------------------------------------------


def invitation_from_token(token: str) -> Invitation:
    max_age = settings.INVITATION_MAX_AGE_DAYS * 24 * 60 * 60
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvitationInvalid(_("This invitation has expired. Ask your admin to send a new one.")) from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid(_("This invitation link is not valid. Check that you copied all of it.")) from exc
    invitation = Invitation.objects.select_related("team").filter(pk=payload.get("i")).first()
    if invitation is None or invitation.revoked_at is not None:
        raise InvitationInvalid(_("This invitation was withdrawn. Ask your admin for a new one."))
    if invitation.accepted_at is not None:
        raise InvitationInvalid(_("This invitation was already used. Log in with your email and password."))
    return invitation


@transaction.atomic
def invitation_create(
    *,
    email: str,
    role: str,
    invited_by: User,
    team: Team | None = None,
    full_name: str = "",
    language: str = "pt-br",
) -> Invitation:
    """Invite someone by email. Inviting an address that has an open invitation updates and resends it."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("Someone already uses this email address.")})
    invitation = Invitation.objects.select_for_update().filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).first() or Invitation(email=email)
    invitation.role = role
    invitation.team = team
    invitation.full_name = full_name
    invitation.language = language
    invitation.invited_by = invited_by
    invitation.created_at = timezone.now()
    invitation.save()
    jobs.queue_on_commit(tasks.invitation_send, invitation.pk)
    return invitation


def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.is_open:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


@transaction.atomic
def invitation_accept(*, token: str, full_name: str, password: str) -> User:
    """Create the invited user. Raises InvitationInvalid or ValidationError (password rules)."""
    invitation = invitation_from_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise InvitationInvalid(_("This invitation was already used. Log in with your email and password."))
    candidate = User(email=invitation.email, full_name=full_name)
    validate_password(password, user=candidate)
    user = user_create(
        email=invitation.email,
        full_name=full_name,
        role=invitation.role,
        team=invitation.team,
        password=password,
        language=invitation.language,
    )
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    return user
