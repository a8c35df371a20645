"""The emails Leme sends about people: what they say, the links in them, and sending them.

Each email is built from ids by the worker that sends it, so a link that opens an account (an
invitation, a password reset) is made at the moment of sending and never sits in the broker. This module
imports no service and no task: services queue the tasks, the tasks call these functions.
"""

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import Invitation, User

logger = logging.getLogger(__name__)

INVITATION_SALT = "leme.accounts.invitation"
DIGEST_UNSUBSCRIBE_SALT = "leme.accounts.digest-unsubscribe"


def _send(*, subject: str, to: str, text: str, html: str) -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()


# --- Invitations ---------------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """A signed token naming the invitation; only the server can make one, and it expires."""
    return signing.dumps({"i": invitation.pk}, salt=INVITATION_SALT, compress=True)


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("accounts:invitation_accept", args=[invitation_token(invitation)])


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
    _send(subject=subject, to=invitation.email, text=text, html=html)
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    return True


# --- The morning digest's unsubscribe link ------------------------------------------------------


def digest_unsubscribe_url(user: User) -> str:
    """A link that turns the person's morning digest off in one click. Signed (only the server makes one) and
    without expiry: unsubscribing from an old email must still work."""
    token = signing.Signer(salt=DIGEST_UNSUBSCRIBE_SALT).sign_object({"u": user.pk}, compress=True)
    return settings.SITE_URL + reverse("accounts:digest_unsubscribe", args=[token])


def digest_unsubscribe_user_id(token: str) -> int | None:
    try:
        payload = signing.Signer(salt=DIGEST_UNSUBSCRIBE_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    user_id = payload.get("u") if isinstance(payload, dict) else None
    return user_id if isinstance(user_id, int) else None


# --- Password resets -----------------------------------------------------------------------------


def password_reset_send(*, user_id: int) -> bool:
    """Email a password reset link, made now, in the person's language. Returns False for an account that
    may not reset its password any more (deactivated, or without a usable password).

    Run twice, it sends two emails; both links work until the password changes, so nothing breaks.
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        logger.info("password reset not sent: account cannot reset", extra={"user_id": user_id})
        return False
    protocol, domain = settings.SITE_URL.split("://", 1)
    # The context Django's PasswordResetForm gives these templates.
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": domain,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": protocol,
    }
    with translation.override(user.language):
        subject = "".join(render_to_string("registration/password_reset_subject.txt", context).splitlines())
        text = render_to_string("registration/password_reset_email.txt", context)
        html = render_to_string("registration/password_reset_email.html", context)
    _send(subject=subject, to=user.email, text=text, html=html)
    return True
