"""Every write about people: users, teams, invitations, password resets.

Emails go out from tasks (accounts.tasks, which build them with accounts.emails) queued after commit;
this module imports the tasks, and nothing there imports it back."""

import functools
import hashlib
import logging
import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import tasks
from accounts.access import api_tokens_revocable_filter, can_manage_integrations
from accounts.emails import INVITATION_SALT, digest_unsubscribe_user_id
from accounts.models import ApiToken, Invitation, Role, Team, TokenScope, User
from core import clock, jobs, ratelimit

logger = logging.getLogger(__name__)


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
    the same either way. Only the user's id is queued: the worker makes the link when it sends.

    At most ``LEME_PASSWORD_RESET_RATES["email"]`` requests per email are sent; the rest are quietly dropped,
    counted whether or not the email has an account, so that nothing tells the two apart and nobody can bury
    a colleague's inbox in reset emails."""
    email = (email or "").strip().lower()
    if not ratelimit.hit("password-reset-email", email, settings.LEME_PASSWORD_RESET_RATES["email"]).allowed:
        logger.warning("password reset dropped: too many for one email")
        return
    for user in User.objects.filter(email__iexact=email, is_active=True):
        if user.has_usable_password():
            jobs.queue_on_commit(tasks.password_reset_send, user.pk, notify=False)


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unknown language.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def user_set_day(*, user: User, time_zone: str, morning_digest: bool) -> None:
    """Where the person's day starts and whether the morning digest comes at 8:00 there. Choosing says what
    the person wants from now on, even when it is what their role has by default."""
    if time_zone not in available_time_zones():
        raise ValidationError({"time_zone": _("Unknown time zone.")})
    user.time_zone, user.morning_digest = time_zone, morning_digest
    user.save(update_fields=["time_zone", "morning_digest"])


@functools.cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def digest_unsubscribe(*, token: str) -> User | None:
    """Turn the morning digest off for the person a digest's unsubscribe link names (one click, no login:
    RFC 8058). The link does not expire, so an old email's link still works. None for a link not made here."""
    user_id = digest_unsubscribe_user_id(token)
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    if user is not None and user.morning_digest is not False:
        user.morning_digest = False
        user.save(update_fields=["morning_digest"])
        logger.info("morning digest unsubscribed", extra={"user_id": user.pk})
    return user


# --- The bell's count ---------------------------------------------------------------------------------


def notifications_unread_add(*, user_id: int, count: int = 1) -> None:
    """Count new notices on the person's bell (the app that keeps the notices calls it in the same transaction)."""
    User.objects.filter(pk=user_id).update(notifications_unread=models.F("notifications_unread") + count)


def notifications_unread_set(*, user_id: int, count: int) -> None:
    """Set the bell's count to what the notices say (after some were read)."""
    User.objects.filter(pk=user_id).update(notifications_unread=max(count, 0))


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


# --- API tokens ------------------------------------------------------------------------------------------

# The start of every key Leme makes; the prefix shown beside a token is this and the key's next characters.
KEY_START = "leme_"
PREFIX_LENGTH = len(KEY_START) + 8
# last_used_at is written at most this often per token: an integration posting every second costs no write each.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def api_token_hash(key: str) -> str:
    """SHA-256 of a key, hex. Enough for keys of 256 random bits (nothing to guess); a slow password hash would
    cost every API call dearly and protect nothing more."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str, actor: User, scope: str = TokenScope.FULL) -> tuple[ApiToken, str]:
    """A new token and its key; the key is returned this once and never stored. A person creates their own
    ``full`` tokens; integration tokens (``usage_events``) are created by admins and belong to them."""
    if scope == TokenScope.FULL and actor.pk != user.pk:
        raise PermissionDenied(_("People create their own API tokens."))
    if scope == TokenScope.USAGE_EVENTS and not (can_manage_integrations(actor) and actor.pk == user.pk):
        raise PermissionDenied(_("Only admins create integration tokens."))
    if scope not in TokenScope.values:
        raise ValidationError({"scope": _("Unknown token scope.")})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, such as the system that will use it.")})
    key = KEY_START + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name[:100], prefix=key[:PREFIX_LENGTH], key_hash=api_token_hash(key), scope=scope)
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken, actor: User) -> None:
    """Revoke a token: personal ones by the rule in ``access.api_tokens_revocable_filter``, integration ones by
    admins. Revoking twice changes nothing."""
    if token.scope == TokenScope.USAGE_EVENTS:
        allowed = can_manage_integrations(actor)
    else:
        allowed = ApiToken.objects.filter(api_tokens_revocable_filter(actor), pk=token.pk).exists()
    if not allowed:
        raise PermissionDenied(_("You cannot revoke this token."))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every personal token of ``user`` (a new password: whoever knew the old one may have made one).
    Integration tokens an admin made for the workspace stay; other admins see and revoke them."""
    return ApiToken.objects.filter(user=user, scope=TokenScope.FULL, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


def api_token_authenticate(key: str) -> ApiToken | None:
    """The live token for ``key`` with its person loaded, or None (unknown, revoked, or its person deactivated).
    Notes when it was used, at most once a minute (one conditional UPDATE, so every call costs the same)."""
    if not key or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__team")
        .filter(key_hash=api_token_hash(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = clock.now()
    ApiToken.objects.filter(pk=token.pk).filter(
        models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - LAST_USED_GRANULARITY)
    ).update(last_used_at=now)
    return token
