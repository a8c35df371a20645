"""Playbooks: a team's repeatable plays (onboarding kickoff, renewal prep, back to green) as a trigger, an
audience, ordered steps and an exit goal, and the runs that carry them out on one customer each.

A ``Playbook`` is what people name and manage; its rules live in numbered ``PlaybookVersion`` rows. Editing
changes the one draft version (``published_at`` empty); publishing it makes it the version new runs start
with. A ``Run`` keeps the version it started with, so publishing never changes a run under way. Every write
goes through ``playbooks.services``; the engine (``playbooks.engine``) advances runs one step at a time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from portfolio.models import Customer

USER = settings.AUTH_USER_MODEL


class PlaybookStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")


class Playbook(models.Model):
    """A named play a team runs again and again. ``team`` empty: it is company-wide (admins edit it); with a
    team, it applies to that team's customers and the team's leader edits it. ``key`` names the default
    playbooks Leme ships, so installing them twice adds nothing."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="playbooks"
    )
    status = models.CharField(_("status"), max_length=8, choices=PlaybookStatus.choices, default=PlaybookStatus.DRAFT)
    cooldown_days = models.PositiveSmallIntegerField(
        _("cool-down (days)"),
        default=30,
        help_text=_("After a run ends, the same customer does not enter this playbook again for this many days."),
    )
    key = models.SlugField(max_length=60, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    paused_at = models.DateTimeField(null=True, blank=True)
    # The version new runs start with: the latest published one.
    live_version = models.ForeignKey(
        "PlaybookVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")

    def __str__(self) -> str:
        return self.name


class TriggerKind(models.TextChoices):
    CUSTOMER_CREATED = "customer_created", _("Customer created")
    STAGE_CHANGED = "stage_changed", _("Stage changed to…")
    HANDOFF_DONE = "handoff_done", _("Handoff done")
    DETRACTOR_ANSWERED = "detractor_answered", _("Detractor answered a survey")
    CHURN_REQUEST_OPENED = "churn_request_opened", _("Churn request opened")
    UTI_ENTERED = "uti_entered", _("UTI entered")
    UTI_LEFT = "uti_left", _("UTI left")
    DELINQUENCY_STARTED = "delinquency_started", _("Payment overdue")
    HEALTH_BAND_CHANGED = "health_band_changed", _("Health band changed to…")
    RENEWAL_IN = "renewal_in", _("Renewal in N days")
    REVIEW_DUE_IN = "review_due_in", _("Success review due in N days")
    NO_TOUCH_IN = "no_touch_in", _("No meaningful touch in N days")
    MANUAL = "manual", _("Started by hand only")


# Triggers the daily job checks (their parameter is ``days``).
DATE_TRIGGERS = (TriggerKind.RENEWAL_IN, TriggerKind.REVIEW_DUE_IN, TriggerKind.NO_TOUCH_IN)


class ExitGoal(models.TextChoices):
    NONE = "", _("None: the run ends after its last step")
    BACK_TO_GREEN = "back_to_green", _("Health back to green")
    RENEWED = "renewed", _("Renewed (the renewal date moved on)")
    CHURN_REQUEST_CLOSED = "churn_request_closed", _("Churn request closed")
    UTI_LEFT = "uti_left", _("Left UTI")
    ONBOARDING_DONE = "onboarding_done", _("Onboarding finished")
    TOUCH_LOGGED = "touch_logged", _("A touch was logged")


class PlaybookVersion(models.Model):
    """One version of a playbook's rules. ``steps`` is an ordered list of ``{"kind": ..., ...}`` objects
    (see ``playbooks.steps``); the audience lists are empty for "any". Published versions never change."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    trigger_kind = models.CharField(_("trigger"), max_length=24, choices=TriggerKind.choices)
    trigger_params = models.JSONField(default=dict, blank=True)
    service_models = models.JSONField(_("service models"), default=list, blank=True)
    segments = models.JSONField(_("segments"), default=list, blank=True)
    stages = models.JSONField(_("stages"), default=list, blank=True)
    plan_tiers = models.JSONField(_("plans"), default=list, blank=True)
    mrr_min_cents = models.BigIntegerField(_("MRR from (cents)"), null=True, blank=True)
    mrr_max_cents = models.BigIntegerField(_("MRR up to (cents)"), null=True, blank=True)
    steps = models.JSONField(default=list, blank=True)
    exit_goal = models.CharField(_("exit goal"), max_length=24, choices=ExitGoal.choices, default="", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["playbook", "-number"]
        verbose_name = _("playbook version")
        verbose_name_plural = _("playbook versions")
        constraints = [
            models.UniqueConstraint(fields=["playbook", "number"], name="playbooks_version_number_unique"),
            models.UniqueConstraint(
                fields=["playbook"], condition=Q(published_at__isnull=True), name="playbooks_one_draft_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playbook} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.published_at is None


class RunStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    EXITED = "exited", _("Exited")


OPEN_RUN_STATUSES = (RunStatus.ACTIVE, RunStatus.PAUSED)


class Run(models.Model):
    """One customer going through one playbook version. ``current_step`` is the index of the next step to
    run, due at ``next_due_at``. At most one active or paused run per customer and playbook (a constraint);
    ``trigger_key`` names what started it (a renewal date, a review), so the daily check enrols a customer
    once per occurrence. ``facts`` keeps what the run knows beyond the database (the latest health band)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="runs")
    # RESTRICT: a version with runs cannot be deleted alone, yet goes with its playbook.
    version = models.ForeignKey(PlaybookVersion, on_delete=models.RESTRICT, related_name="runs")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="playbook_runs")
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trigger_key = models.CharField(max_length=80, blank=True)
    facts = models.JSONField(default=dict, blank=True)
    current_step = models.PositiveSmallIntegerField(default=0)
    next_due_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("playbook run")
        verbose_name_plural = _("playbook runs")
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "customer"],
                condition=Q(status__in=["active", "paused"]),
                name="playbooks_one_open_run_per_customer",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_due_at"]),
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["playbook", "customer", "trigger_key"]),
        ]

    def __str__(self) -> str:
        return f"{self.playbook} · {self.customer_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RUN_STATUSES


class StepOutcome(models.TextChoices):
    TASK_CREATED = "task_created", _("Task created")
    NOBODY_TO_ASSIGN = "nobody", _("Skipped: nobody in that role")
    WAITED = "waited", _("Waited")
    CONDITION_MET = "condition_met", _("Condition held: carried on")
    CONDITION_FAILED = "condition_failed", _("Condition no longer held: run ended")
    EMAIL_QUEUED = "email_queued", _("Email queued for sending")
    NO_RECIPIENT = "no_recipient", _("Skipped: no contact in that role with an email address")
    NO_EMAIL_TEXT = "no_email_text", _("Skipped: the email has no subject and text yet")


class RunStep(models.Model):
    """A step a run carried out. Unique per run and index: a step runs once, however many times a job runs."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="run_steps")
    index = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12)
    started_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=StepOutcome.choices)
    task = models.ForeignKey("portfolio.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["run", "index"]
        verbose_name = _("run step")
        verbose_name_plural = _("run steps")
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="playbooks_step_runs_once")]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.index} {self.outcome}"


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    HELD = "held", _("Held back by the weekly cap")
    OPTED_OUT = "opted_out", _("Not sent: the contact unsubscribed from playbook emails")
    BOUNCED = "bounced", _("Bounced")
    SUPPRESSED = "suppressed", _("Not sent: the contact's address bounced before")
    CANCELLED = "cancelled", _("Not sent: the run ended first")
    FAILED = "failed", _("Failed")


class StepEmail(models.Model):
    """One email of a run's email step to one contact (see ``playbooks.mailing``). Unique per run, step and
    contact, so a step run twice writes no second email; ``status`` says what became of it, ``next_attempt_at``
    when it is due (the send window, a temporary refusal). Its Message-ID is ``<playbook-{pk}@domain>``."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="emails")
    index = models.PositiveSmallIntegerField()
    contact = models.ForeignKey("portfolio.Contact", on_delete=models.CASCADE, related_name="playbook_emails")
    email = models.EmailField()
    language = models.CharField(max_length=8)
    status = models.CharField(max_length=12, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["run", "index", "pk"]
        verbose_name = _("playbook email")
        verbose_name_plural = _("playbook emails")
        constraints = [
            models.UniqueConstraint(fields=["run", "index", "contact"], name="playbooks_email_once_per_step")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["contact", "status", "sent_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.index} → {self.contact_id} ({self.status})"


class EmailOptOut(models.Model):
    """A contact who unsubscribed from playbook emails: its own category, apart from the survey opt-out
    (``Contact.opted_out_at``), so one never stops the other. ``via`` is the email whose link they used."""

    contact = models.OneToOneField("portfolio.Contact", on_delete=models.CASCADE, related_name="playbook_opt_out")
    opted_out_at = models.DateTimeField(default=timezone.now)
    via = models.ForeignKey(StepEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="opt_outs")

    class Meta:
        verbose_name = _("playbook email opt-out")
        verbose_name_plural = _("playbook email opt-outs")

    def __str__(self) -> str:
        return f"{self.contact_id} opted out of playbook emails"
