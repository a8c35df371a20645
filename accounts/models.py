from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person does in the CS team; it decides what they see and change (see accounts.access)."""

    ADMIN = "admin", _("Admin")
    LEADER = "leader", _("Leader")
    CSM = "csm", _("CSM")
    ISM = "ism", _("Implementation (ISM)")
    FARMER = "farmer", _("Farmer")
    VIEWER = "viewer", _("Viewer")


# Who may own customers (their CSM after onboarding).
OWNER_ROLES = (Role.CSM, Role.LEADER, Role.FARMER)

# Who gets the morning digest unless they choose otherwise: the people who work a day of customers. Viewers and
# admins read Leme when they need to and would take a daily email for noise; they can turn it on.
DIGEST_DEFAULT_ROLES = (Role.CSM, Role.ISM, Role.FARMER, Role.LEADER)

# Where a person's day starts when they have not said (the workspace's own zone is Brazil's).
DEFAULT_TIME_ZONE = "America/Sao_Paulo"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> "User":
        # Emails are stored lower-cased; people type them any way they like.
        return self.get(email__iexact=username.strip())

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("role", Role.ADMIN)
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class Team(models.Model):
    """A group of people under one leader; a leader sees and reassigns their team's customers."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams_led",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who logs in to Leme. Logs in by email; belongs to at most one team."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CSM)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="pt-br")
    time_zone = models.CharField(_("time zone"), max_length=64, default=DEFAULT_TIME_ZONE)
    # None: the role's default (DIGEST_DEFAULT_ROLES); True or False: what the person chose.
    morning_digest = models.BooleanField(_("morning digest"), null=True, blank=True)
    # The bell's count, kept with the notices (portfolio.services.notifications) so that no page pays a query
    # for it: the user row is already loaded by the session.
    notifications_unread = models.PositiveIntegerField(_("unread notifications"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("Whether this person may use the Django admin.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def save(self, *args, **kwargs) -> None:
        # Read by accounts.receivers after the save: a new password revokes the person's API tokens, whichever
        # path set it (the change form, a reset link, the admin, a management command). Django keeps the raw
        # password until the save that stores it (not when it only rehashes the same password at login).
        self._password_was_set = self._password is not None
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def initials(self) -> str:
        parts = [p for p in self.full_name.split() if p]
        if not parts:
            return self.email[:2].upper()
        return (parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")).upper()

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def is_leader(self) -> bool:
        return self.role == Role.LEADER

    @property
    def wants_digest(self) -> bool:
        """Whether the morning digest is on: the person's choice, else their role's default."""
        if self.morning_digest is None:
            return self.role in DIGEST_DEFAULT_ROLES
        return self.morning_digest

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.VIEWER and not self.is_superuser


class Invitation(models.Model):
    """An emailed invitation to join Leme with a role (and team). Accepting it creates the user.

    The link carries a signed, expiring token derived from the invitation's id (see
    ``accounts.emails.invitation_token``); nothing secret is stored, so the email task can rebuild
    the link from the id alone.
    """

    email = models.EmailField(_("email"))
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CSM)
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="pt-br")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("invited by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address: inviting again resends instead of piling up links.
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="accounts_invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class TokenScope(models.TextChoices):
    """What an API token may do (the rule is ``accounts.access.token_allows``)."""

    FULL = "full", _("Acts as its person")
    USAGE_EVENTS = "usage_events", _("Sends product-usage events only")


class ApiToken(models.Model):
    """A secret that authenticates API calls (``Authorization: Token <key>`` or ``Bearer <key>``).

    Only a SHA-256 hash of the key is stored: the key is random (32 bytes), so a plain hash cannot be
    reversed, and it is shown once, when the token is created. ``prefix`` (the key's first characters) lets
    people tell their tokens apart. A ``full`` token acts as ``user`` through the door; a ``usage_events`` token
    is an integration's (created by an admin, ``user``) and may only post usage events, for every customer.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=16, choices=TokenScope.choices, default=TokenScope.FULL)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class OutboxJob(models.Model):
    """A background job the web process could not hand to the broker (unreachable), kept until a beat job queues
    it again (``accounts.outbox``). It lives here because ``core``, which queues jobs (``core.jobs``), has no
    models, and ``accounts`` is the lowest app that has: every app's jobs may land here without an import going
    up the layers. Only the task's name and its JSON arguments are kept, as the broker would."""

    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts to queue it again"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("job waiting for the broker")
        verbose_name_plural = _("jobs waiting for the broker")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.task_name} {self.created_at:%Y-%m-%d %H:%M}"


class SettingChange(models.Model):
    """One change made on a Settings page (a journey policy, a churn reason, the survey defaults…): who, when,
    what it was and became, and what it affects. ``area`` names the page (``journey``, ``churn_reasons``,
    ``surveys``); ``changes`` is ``[{"field": label, "before": text, "after": text}, ...]``, kept as the words
    shown then, so the history reads the same after the setting changes again. It lives here, the lowest app
    with models, so every app's Settings page records its changes without an import going up the layers."""

    area = models.CharField(_("area"), max_length=32)
    subject = models.CharField(_("what"), max_length=200)
    changes = models.JSONField(_("changes"), default=list, blank=True)
    effect = models.CharField(_("what it affects"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("settings change")
        verbose_name_plural = _("settings changes")
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["area", "-changed_at"])]

    def __str__(self) -> str:
        return f"{self.area}: {self.subject}"
