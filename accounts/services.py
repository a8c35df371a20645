"""Every write about people: users, teams, invitations."""

import logging

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Invitation, Role, Team, User

logger = logging.getLogger(__name__)

INVITATION_SALT = "leme.accounts.invitation"


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


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unknown language.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


# --- Invitations ---------------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """A signed token naming the invitation; only the server can make one, and it expires."""
    return signing.dumps({"i": invitation.pk}, salt=INVITATION_SALT, compress=True)


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("accounts:invitation_accept", args=[invitation_token(invitation)])


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
    from accounts.tasks import invitation_send

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
    invitation_send.delay_on_commit(invitation.pk)
    return invitation


def invitation_send(*, invitation_id: int) -> bool:
    """Email the invitation link. Returns False when there is nothing to send any more."""
    invitation = Invitation.objects.select_related("invited_by", "team").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_open:
        logger.info("invitation not sent: no longer open", extra={"invitation_id": invitation_id})
        return False
    with translation.override(invitation.language):
        context = {
            "invitation": invitation,
            "url": invitation_url(invitation),
            "days": settings.INVITATION_MAX_AGE_DAYS,
            "site_url": settings.SITE_URL,
        }
        subject = _("You are invited to Leme")
        text = render_to_string("accounts/email/invitation.txt", context)
        html = render_to_string("accounts/email/invitation.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[invitation.email])
    message.attach_alternative(html, "text/html")
    message.send()
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    return True


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
