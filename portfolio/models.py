"""Customers and everything a CSM keeps about them: contacts, subscriptions and the MRR ledger, the
timeline, tasks, and the journey (onboarding milestones, handoff, success reviews, churn requests, UTI,
expansion). Every write goes through portfolio.services; these classes hold fields and constraints."""

from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.labels import ACTIVITY_KINDS
from core.search import Folded
from portfolio.validators import validate_cnpj

USER = settings.AUTH_USER_MODEL


class ServiceModel(models.TextChoices):
    HIGH_TOUCH = "high", _("High-touch")
    LOW_TOUCH = "low", _("Low-touch")
    TECH_TOUCH = "tech", _("Tech-touch")


class Stage(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding")
    ONGOING = "ongoing", _("Ongoing")
    UTI = "uti", _("UTI")
    CHURNED = "churned", _("Churned")


class Segment(models.TextChoices):
    SMB = "smb", _("SMB")
    MID_MARKET = "mid", _("Mid-market")
    ENTERPRISE = "enterprise", _("Enterprise")


class PlanTier(models.TextChoices):
    ESSENTIAL = "essential", _("Essential")
    PRO = "pro", _("Pro")
    BUSINESS = "business", _("Business")
    ENTERPRISE = "enterprise", _("Enterprise")


class HealthBand(models.TextChoices):
    """The colour of a customer's health (computed by health, shown by the portfolio)."""

    RED = "red", _("Red")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


class Tag(models.Model):
    """A free label on customers (\"pilot\", \"strategic\"), shown on the customer page."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A paying company. Its stage moves only through portfolio.services, which logs every change.

    ``mrr_cents`` is the current MRR, kept by the subscription services together with the ledger so the
    portfolio can sort and sum 50,000 customers without adding subscriptions up on every page.
    ``last_touch_at`` is the latest human touch on the timeline, kept by ``activity_log``.
    ``health_*`` is the current health, written by the nightly health run (and by health overrides) so the
    portfolio can show, sort and filter on it without importing health: ``health_band`` / ``health_score`` are
    what people see (an override's while one is in force), ``health_real_*`` the computed ones, and
    ``health_change_7d`` the computed score now minus seven days ago.
    """

    name = models.CharField(_("name"), max_length=200)
    # The name lower-cased and without accents, kept by the database: what search matches and its indexes hold
    # (core.search), so PostgreSQL compares stored text instead of folding each row it checks.
    name_folded = models.GeneratedField(expression=Folded("name"), output_field=models.TextField(), db_persist=True)
    cnpj = models.CharField(_("CNPJ"), max_length=14, blank=True, validators=[validate_cnpj])
    segment = models.CharField(_("segment"), max_length=16, choices=Segment.choices, default=Segment.SMB)
    plan_tier = models.CharField(_("plan"), max_length=16, choices=PlanTier.choices, default=PlanTier.PRO)
    service_model = models.CharField(
        _("service model"), max_length=8, choices=ServiceModel.choices, default=ServiceModel.LOW_TOUCH
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.ONBOARDING)
    stage_changed_at = models.DateTimeField(_("stage changed at"), default=timezone.now)
    owner = models.ForeignKey(
        USER, verbose_name=_("CSM"), null=True, blank=True, on_delete=models.PROTECT, related_name="customers_owned"
    )
    implementation_manager = models.ForeignKey(
        USER,
        verbose_name=_("implementation manager (ISM)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers_implemented",
    )
    farmer = models.ForeignKey(
        USER,
        verbose_name=_("farmer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers_farmed",
    )
    start_date = models.DateField(_("start date"), default=date.today)
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="BRL")
    mrr_cents = models.BigIntegerField(_("MRR (cents)"), default=0)
    # Seats the customer has bought, when set here; otherwise the seats of its running subscriptions.
    licences = models.PositiveIntegerField(_("licences"), null=True, blank=True)
    last_touch_at = models.DateTimeField(_("last touch"), null=True, blank=True)
    health_score = models.PositiveSmallIntegerField(_("health score"), null=True, blank=True)
    health_band = models.CharField(_("health"), max_length=8, choices=HealthBand.choices, blank=True)
    health_real_score = models.PositiveSmallIntegerField(_("computed health score"), null=True, blank=True)
    health_real_band = models.CharField(_("computed health"), max_length=8, choices=HealthBand.choices, blank=True)
    health_change_7d = models.SmallIntegerField(_("health change in 7 days"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner", "stage"]),
            models.Index(fields=["implementation_manager", "stage"]),
            models.Index(fields=["stage"]),
            models.Index(fields=["renewal_date"]),
            # The onboarding board, a page at a time in its order: the first 50 by key, not every customer in
            # onboarding sorted.
            models.Index(
                fields=["start_date", "id"], condition=Q(stage="onboarding"), name="portfolio_customer_onboarding"
            ),
            # A leader's month of renewals on My day, totalled from the index alone: the id, MRR and people the
            # count, the sum, the churn requests and the door read with each renewal date; the churned left out.
            models.Index(
                fields=["renewal_date"],
                include=["id", "mrr_cents", "owner", "implementation_manager", "farmer"],
                condition=~Q(stage="churned"),
                name="portfolio_customer_renewing",
            ),
            models.Index(fields=["name"]),
            models.Index(fields=["health_score"]),
            # My day's and the morning digest's "changed stage since yesterday" (a range, newest first).
            models.Index(fields=["stage_changed_at"], name="portfolio_customer_stage_chg"),
            # The onboarding board's pace per ISM: every customer's people and start, narrow enough to read whole
            # instead of the customer rows. Partial on a condition only the pace states (a start date is never
            # empty), so no other query's plan takes it: the UTI board's few stays read their customers by key.
            models.Index(
                fields=["id"],
                include=["owner", "implementation_manager", "farmer", "start_date"],
                condition=Q(start_date__isnull=False),
                name="portfolio_customer_pace",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OwnershipPeriod(models.Model):
    """Who owned a customer when: reassignment closes one period and opens the next, so reports can
    count a customer in the slice of its owner at the start of a period."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="ownership_periods")
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        verbose_name = _("ownership period")
        verbose_name_plural = _("ownership periods")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(ended_at__isnull=True), name="portfolio_one_open_ownership"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.owner_id} from {self.started_at:%Y-%m-%d}"


class ContactRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    CHAMPION = "champion", _("Champion")
    USER = "user", _("User")
    FINANCE = "finance", _("Finance")
    TECHNICAL = "technical", _("Technical")


class Contact(models.Model):
    """A person at the customer. Contacts never log in; they receive surveys and emails."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=150)
    name_folded = models.GeneratedField(expression=Folded("name"), output_field=models.TextField(), db_persist=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=ContactRole.choices, default=ContactRole.USER)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="pt-br")
    opted_out_at = models.DateTimeField(_("opted out of surveys at"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("email bounced at"), null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # An archived contact has left the customer: off its page and out of surveys, its history kept.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BillingPeriod(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    SEMIANNUAL = "semiannual", _("Every six months")
    ANNUAL = "annual", _("Annual")
    ONE_OFF = "one_off", _("One-off charge")


BILLING_MONTHS = {
    BillingPeriod.MONTHLY: 1,
    BillingPeriod.QUARTERLY: 3,
    BillingPeriod.SEMIANNUAL: 6,
    BillingPeriod.ANNUAL: 12,
}


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    TRIAL = "trial", _("Trial")
    DELINQUENT = "delinquent", _("Delinquent")
    CANCELLED = "cancelled", _("Cancelled")
    # A change of amount or plan ends the old row and starts a new one, so history can be recomputed.
    REPLACED = "replaced", _("Replaced by a change")


# Subscriptions in force: they count in MRR and a churn or a change acts on them.
RUNNING_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIAL, SubscriptionStatus.DELINQUENT)


class Subscription(models.Model):
    """What a customer pays for. Changing subscriptions (through the services) is the only way MRR moves.

    Amounts are integer cents per billing period; the monthly value is the amount divided by the
    period's months. Trials and one-off charges are worth 0 MRR; a delinquent subscription still counts
    until it is cancelled.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="subscriptions")
    product = models.CharField(_("product"), max_length=100)
    plan = models.CharField(_("plan"), max_length=100, blank=True)
    amount_cents = models.BigIntegerField(_("amount (cents)"), validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3, default="BRL")
    billing_period = models.CharField(
        _("billing period"), max_length=16, choices=BillingPeriod.choices, default=BillingPeriod.MONTHLY
    )
    status = models.CharField(_("status"), max_length=16, choices=SubscriptionStatus.choices, default="active")
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    delinquent_since = models.DateField(_("delinquent since"), null=True, blank=True)
    # Kept when the row is replaced or cancelled, so a trial's weeks never count as MRR in recomputation.
    is_trial = models.BooleanField(_("trial"), default=False)
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0),
                name="portfolio_subscription_amount_positive",
                violation_error_message=_("The amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="portfolio_subscription_ends_after_start",
                violation_error_message=_("A subscription cannot end before it starts."),
            ),
        ]
        indexes = [
            # The portfolio list's "delinquent" flag: the customers with a delinquent subscription, read from this
            # small index (a few in a hundred) instead of every subscription there is.
            models.Index(fields=["customer"], condition=Q(status="delinquent"), name="portfolio_sub_delinquent"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.plan}".strip()

    @property
    def is_current(self) -> bool:
        return self.status in RUNNING_STATUSES

    def runs_on(self, day: date) -> bool:
        """Whether the subscription is in force on ``day`` (the end date is the first day it is not)."""
        return self.start_date <= day and (self.end_date is None or self.end_date > day)

    @property
    def monthly_cents(self) -> int:
        """This subscription's contribution to MRR while it runs."""
        if self.is_trial or self.status == SubscriptionStatus.TRIAL:
            return 0
        months = BILLING_MONTHS.get(self.billing_period)
        if not months:
            return 0
        return round(self.amount_cents / months)


class MovementKind(models.TextChoices):
    NEW = "new", _("New")
    EXPANSION = "expansion", _("Expansion")
    CONTRACTION = "contraction", _("Contraction")
    CHURN = "churn", _("Churn")
    REACTIVATION = "reactivation", _("Reactivation")


class MrrMovement(models.Model):
    """The MRR ledger: one row per customer and month in which its month-end MRR changed.

    Written only by ``portfolio.ledger`` from subscriptions; ``mrr_recompute --check`` proves it agrees.
    ``amount_cents`` is always positive; ``kind`` says its direction. ``mrr_end_cents`` is the customer's
    MRR at the end of ``month`` (its first day is stored), so any month-end MRR is the latest row's.
    The owner, segment, plan and service model are those at the start of the month, for slicing.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="mrr_movements")
    month = models.DateField()
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    amount_cents = models.BigIntegerField()
    mrr_start_cents = models.BigIntegerField()
    mrr_end_cents = models.BigIntegerField()
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    segment = models.CharField(max_length=16, choices=Segment.choices)
    plan_tier = models.CharField(max_length=16, choices=PlanTier.choices)
    service_model = models.CharField(max_length=8, choices=ServiceModel.choices)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("MRR movement")
        verbose_name_plural = _("MRR movements")
        ordering = ["month", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "month"], name="portfolio_one_movement_per_customer_month"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="portfolio_movement_amount_positive"),
        ]
        indexes = [models.Index(fields=["month", "kind"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind} {self.amount_cents}"


class ActivityKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    STAGE_CHANGE = "stage", _("Stage change")
    HANDOFF = "handoff", _("Handoff")
    MILESTONE = "milestone", _("Milestone")
    REVIEW = "review", _("Success review")
    CHURN_REQUEST = "churn_request", _("Churn request")
    SUBSCRIPTION = "subscription", _("Subscription")
    OWNER_CHANGE = "owner", _("Owner change")
    EXPANSION = "expansion", _("Expansion")
    SYSTEM = "system", _("System")


def activity_kinds() -> list[tuple[str, str]]:
    """Every kind of timeline entry: portfolio's own, then those the apps above register (a survey
    answer, …) in ``core.labels.ACTIVITY_KINDS``."""
    return [*ActivityKind.choices, *ACTIVITY_KINDS.choices()]


HUMAN_TOUCHES = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL)


class Activity(models.Model):
    """One entry on a customer's timeline: something a person did, or something that happened."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="activities")
    # No choices on the column: apps above portfolio add kinds of their own (see activity_kinds).
    kind = models.CharField(_("kind"), max_length=16)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    author = models.ForeignKey(USER, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL)
    # Whom a call, meeting or email was with: a touch with the contact who answered a survey as a detractor
    # closes that loop, a touch with someone else at the customer does not.
    contact = models.ForeignKey(
        "Contact",
        verbose_name=_("with"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    happened_at = models.DateTimeField(_("when"), default=timezone.now)
    data = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-happened_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-happened_at"]),
            # The stage changes logged with their stages alone: which customers log one (read from the index
            # alone) and a customer's last one before a day (``portfolio.selectors.stage_on``), without reading
            # every touch and note of the timeline.
            models.Index(
                fields=["customer", "happened_at"],
                condition=models.Q(kind="stage", data__has_key="to"),
                name="portfolio_activity_stage_chg",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def kind_label(self) -> str:
        if self.kind in ActivityKind.values:
            return str(ActivityKind(self.kind).label)
        return ACTIVITY_KINDS.label(self.kind, self.kind)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(models.Model):
    """Work for one person about one customer. ``origin`` says what created it (manual, or an event
    such as a delinquency, a detractor answer or a UTI plan); ``origin_key`` makes automatic tasks
    idempotent: the same event never creates the same task twice."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tasks")
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_date = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    origin = models.CharField(_("origin"), max_length=32, default="manual")
    origin_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["owner", "status", "due_date"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == TaskStatus.OPEN and self.due_date < timezone.localdate()


class ServiceModelPolicy(models.Model):
    """The journey's defaults per service model, editable by the admin: onboarding milestone targets,
    success review cadence, UTI length."""

    service_model = models.CharField(max_length=8, choices=ServiceModel.choices, unique=True)
    first_value_days = models.PositiveSmallIntegerField(_("first value within (days)"))
    first_success_days = models.PositiveSmallIntegerField(_("first success within (days)"))
    review_every_months = models.PositiveSmallIntegerField(
        _("success review every (months)"), null=True, blank=True, help_text=_("Empty: no scheduled reviews.")
    )
    handoff_by_meeting = models.BooleanField(_("handoff must be a meeting"), default=True)
    uti_days = models.PositiveSmallIntegerField(_("UTI length (days)"), default=30)

    class Meta:
        verbose_name = _("service model policy")
        verbose_name_plural = _("service model policies")

    def __str__(self) -> str:
        return self.get_service_model_display()


# --- The journey ---------------------------------------------------------------------------------------


class MilestoneKind(models.TextChoices):
    FIRST_VALUE = "first_value", _("First value")
    FIRST_SUCCESS = "first_success", _("First success")
    OTHER = "other", _("Other")


class MilestoneTemplate(models.Model):
    """One onboarding milestone a service model's new customers get, named in both languages and edited on the
    Settings pages. The templates linked to first value and first success are dated by the service model's
    policy (``ServiceModelPolicy``); the others are due by the first-success date. A customer entering onboarding
    gets one milestone per active template, in order; customers already in onboarding keep theirs. A template
    with milestones is retired, never deleted (``Milestone.template`` protects it)."""

    service_model = models.CharField(_("service model"), max_length=8, choices=ServiceModel.choices)
    name_pt = models.CharField(_("name (Portuguese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=MilestoneKind.choices, default=MilestoneKind.OTHER)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service_model", "position", "pk"]
        verbose_name = _("milestone template")
        verbose_name_plural = _("milestone templates")
        constraints = [
            models.UniqueConstraint(
                fields=["service_model", "kind"],
                condition=~Q(kind="other"),
                name="milestone_template_one_per_key_kind",
                violation_error_message=_("This service model already has a milestone of this kind."),
            )
        ]

    def __str__(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_pt


class Milestone(models.Model):
    """An onboarding goal with a target date: first value, first success, or another the ISM adds."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="milestones")
    template = models.ForeignKey(
        MilestoneTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="milestones",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MilestoneKind.choices)
    description = models.CharField(_("description"), max_length=300)
    target_date = models.DateField(_("target date"))
    achieved_on = models.DateField(_("achieved on"), null=True, blank=True)

    class Meta:
        ordering = ["target_date", "pk"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        indexes = [
            # My day's milestones at risk: the open ones, soonest target first.
            models.Index(
                fields=["target_date"], condition=Q(achieved_on__isnull=True), name="portfolio_milestone_open_due"
            ),
            # The onboarding board's pace per ISM: the first values reached, with what it counts of them.
            models.Index(
                fields=["customer"],
                include=["id", "achieved_on", "target_date"],
                condition=Q(kind="first_value", achieved_on__isnull=False),
                name="portfolio_milestone_first_val",
            ),
            # The first values reached in a span of days, not every milestone read: the CS operations' running
            # month, and the onboarding board's pace over the last 12 months, which reads the customer and the
            # target from the index alone.
            models.Index(
                fields=["achieved_on"],
                include=["customer", "target_date"],
                condition=Q(kind="first_value"),
                name="portfolio_milestone_fv_reached",
            ),
            models.Index(fields=["target_date"], condition=Q(kind="first_value"), name="portfolio_milestone_fv_due"),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def label(self) -> str:
        """Its short name in badges and titles: "First value" or "First success", else its own description."""
        return self.description if self.kind == MilestoneKind.OTHER else str(self.get_kind_display())


class FirstValueTally(models.Model):
    """The first values reached each day per ISM, over every customer: the onboarding board's pace for someone
    who sees every customer, read from here (a row per day and ISM) instead of from every first value of the
    window and its customer.

    Kept by the database, not by Leme's code: triggers (migration 0028) add the first values each statement on
    ``portfolio_milestone`` reaches, subtract those it deletes or un-reaches and move those whose day or target it
    changes; a customer whose start date or ISM changes moves its first values from the old key and days to the
    new. Every path that writes milestones or customers keeps it exact (a service, an import, the demo's seed, a
    test's factory). ``portfolio.tally.check`` compares it with the milestones, ``portfolio.tally.rebuild``
    rebuilds it. Only customers with a start date count, as on the board."""

    day = models.DateField()  # the day the first value was reached
    ism = models.IntegerField()  # the customer's ISM's id; 0: none
    reached = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)  # reached on or before its target date
    days = models.BigIntegerField(default=0)  # the days from each customer's start to its first value, summed

    class Meta:
        verbose_name = _("first value tally")
        verbose_name_plural = _("first value tallies")
        constraints = [models.UniqueConstraint(fields=["day", "ism"], name="portfolio_one_fv_tally_per_day_ism")]

    def __str__(self) -> str:
        return f"{self.day} {self.ism}: {self.reached}"


class CustomerBookTally(models.Model):
    """How many customers, and how much MRR, each CSM holds per stage, service model, segment and band: the
    counts and sums of the whole book that the health overview, the health list and the portfolio's totals show
    someone who sees every customer, read from here instead of from every customer: at most 144 cells per CSM
    (4 stages × 3 service models × 3 segments × 4 bands; 195 in all on the 50,000-customer demo), however many
    customers each holds.

    Kept by the database, not by Leme's code: triggers (migration 0030) add the customers each statement on
    ``portfolio_customer`` inserts, subtract those it deletes, and move those whose CSM, stage, service model,
    segment, band or MRR an update changed; a ``TRUNCATE`` of the customers empties it. Every path that writes
    customers keeps it exact (a service, a bulk reassignment, the nightly health run, an import, the demo's seed, a
    test's factory). ``portfolio.book_tally.check`` compares it with the customers, ``portfolio.book_tally.rebuild``
    rebuilds it (``manage.py book_tally``). The columns hold the customer's values as they are: ``owner_id`` empty
    for a customer without a CSM (a plain id, not a key: a cell emptied of a person's customers never holds the
    person back), ``health_band`` empty for one without a score."""

    owner_id = models.BigIntegerField(null=True)
    stage = models.CharField(max_length=16)
    service_model = models.CharField(max_length=8)
    segment = models.CharField(max_length=16)
    health_band = models.CharField(max_length=8, blank=True)
    customers = models.IntegerField(default=0)
    mrr_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("customer book tally")
        verbose_name_plural = _("customer book tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["owner_id", "stage", "service_model", "segment", "health_band"],
                nulls_distinct=False,  # one cell for the customers without a CSM
                name="portfolio_one_book_tally_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.stage} {self.service_model} {self.segment} {self.health_band}: {self.customers}"


class HandoffChannel(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")


class Handoff(models.Model):
    """The passing of the baton from the ISM to the ongoing CSM. No customer enters ongoing without one."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="handoff")
    from_user = models.ForeignKey(USER, verbose_name=_("from"), null=True, on_delete=models.SET_NULL, related_name="+")
    to_user = models.ForeignKey(USER, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    results = models.TextField(_("results achieved"))
    goals = models.TextField(_("customer's goals"))
    risks = models.TextField(_("risks"), blank=True)
    stakeholders = models.TextField(_("key stakeholders"))
    channel = models.CharField(_("how"), max_length=16, choices=HandoffChannel.choices)
    held_on = models.DateField(_("date"))
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("handoff")
        verbose_name_plural = _("handoffs")
        # The CS operations' running month: its handoffs, not every handoff's wide row read.
        indexes = [models.Index(fields=["held_on"], name="portfolio_handoff_held_on")]

    def __str__(self) -> str:
        return f"Handoff {self.customer_id} → {self.to_user_id}"


class ReviewStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class SuccessReview(models.Model):
    """A periodic success review: the past (what was achieved) and the future (goals for the next cycle).

    ``answers`` holds the template's questions and answers, ``{"past": [{"q": .., "a": ..}], "future": [..]}``;
    ``goals`` are the goals agreed, carried into the next review as its starting point.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reviews")
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("due"))
    held_on = models.DateField(_("held on"), null=True, blank=True)
    status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.SCHEDULED)
    answers = models.JSONField(default=dict, blank=True)
    goals = models.JSONField(_("agreed goals"), default=list, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("success review")
        verbose_name_plural = _("success reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(status="scheduled"), name="portfolio_one_scheduled_review"
            )
        ]
        indexes = [
            # My day's reviews due: the scheduled ones in due order (the first 20 read without sorting them all),
            # with their CSM and customer, so a leader's count of them all reads this index alone.
            models.Index(
                fields=["due_date", "id"],
                include=["owner", "customer"],
                condition=Q(status="scheduled"),
                name="portfolio_review_sched_people",
            ),
            # The CS operations' reviews overdue on a day (due before it, not held by then), read from two narrow
            # indexes instead of the reviews' wide rows: those never held, and those held after a day.
            models.Index(
                fields=["due_date"],
                include=["customer"],
                condition=Q(held_on__isnull=True) & ~Q(status="cancelled"),
                name="portfolio_review_unheld_due",
            ),
            models.Index(
                fields=["held_on"],
                include=["due_date", "customer"],
                condition=Q(held_on__isnull=False) & ~Q(status="cancelled"),
                name="portfolio_review_held_on",
            ),
            # Whether a customer had a review overdue on a past day (the CS operations' month ends): its own
            # reviews, with their dates, read from this index alone, one look-up per customer.
            models.Index(
                fields=["customer"],
                include=["due_date", "held_on"],
                condition=~Q(status="cancelled"),
                name="portfolio_review_customer_due",
            ),
            # A CSM's reviews due on My day: theirs, scheduled, in due order, without the workspace's every
            # scheduled review.
            models.Index(
                fields=["owner", "due_date"],
                condition=Q(status="scheduled"),
                name="portfolio_review_owner_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.customer_id} due {self.due_date}"


class ReviewPart(models.TextChoices):
    PAST = "past", _("Past: what was achieved")
    FUTURE = "future", _("Future: the next cycle")


class ReviewTemplateQuestion(models.Model):
    """One question of the success-review template, in both languages, edited on the Settings pages. A held
    review stores the questions it was asked (``SuccessReview.answers``), so editing, moving or retiring one
    changes only the reviews held from then on; a question already answered is retired, never deleted."""

    part = models.CharField(_("part of the review"), max_length=8, choices=ReviewPart.choices)
    key = models.SlugField(max_length=60, unique=True)
    text_pt = models.CharField(_("question (Portuguese)"), max_length=300)
    text_en = models.CharField(_("question (English)"), max_length=300)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["part", "position", "pk"]
        verbose_name = _("success review question")
        verbose_name_plural = _("success review questions")

    def __str__(self) -> str:
        return self.text_en if (get_language() or "").startswith("en") else self.text_pt


class ChurnCategory(models.Model):
    """A family of churn reasons (price, product gap, adoption, …), managed by the admin."""

    code = models.SlugField(unique=True)
    name_pt = models.CharField(_("name (Portuguese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name_pt"]
        verbose_name = _("churn reason category")
        verbose_name_plural = _("churn reason categories")

    def __str__(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_pt


class ChurnReason(models.Model):
    """A specific, actionable reason within a category (\"missing integration with the ERP\")."""

    category = models.ForeignKey(ChurnCategory, on_delete=models.PROTECT, related_name="reasons")
    code = models.SlugField(unique=True)
    name_pt = models.CharField(_("name (Portuguese)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    needs_detail = models.BooleanField(default=False, help_text=_('"Other" reasons must be explained.'))
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category__name_pt", "name_pt"]
        verbose_name = _("churn reason")
        verbose_name_plural = _("churn reasons")

    def __str__(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_pt


class ChurnKind(models.TextChoices):
    VOLUNTARY = "voluntary", _("Voluntary: the customer asked")
    INVOLUNTARY = "involuntary", _("Involuntary: non-payment")


class ChurnOutcome(models.TextChoices):
    OPEN = "open", _("Open")
    RECOVERED = "recovered", _("Recovered")
    DOWNSELL = "downsell", _("Recovered with downsell")
    CHURNED = "churned", _("Churned")


class ChurnRequest(models.Model):
    """A request to cancel, with its structured reason, save attempts and outcome."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="churn_requests")
    kind = models.CharField(_("kind"), max_length=16, choices=ChurnKind.choices)
    reason = models.ForeignKey(ChurnReason, verbose_name=_("reason"), on_delete=models.PROTECT, related_name="+")
    detail = models.TextField(_("what exactly happened"))
    requested_by = models.CharField(_("who asked"), max_length=150, blank=True)
    requested_on = models.DateField(_("asked on"), default=date.today)
    mrr_at_risk_cents = models.BigIntegerField(_("MRR at risk (cents)"), default=0)
    opened_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=ChurnOutcome.choices, default=ChurnOutcome.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("churn request")
        verbose_name_plural = _("churn requests")
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(outcome="open"), name="portfolio_one_open_churn")
        ]
        indexes = [
            # My day's open churn requests, newest first.
            models.Index(fields=["-created_at"], condition=Q(outcome="open"), name="portfolio_churn_open_newest")
        ]

    def __str__(self) -> str:
        return f"Churn request {self.customer_id} ({self.outcome})"


class SaveAttempt(models.Model):
    """What was offered to keep a customer, and by whom."""

    churn_request = models.ForeignKey(ChurnRequest, on_delete=models.CASCADE, related_name="save_attempts")
    offer = models.TextField(_("what was offered"))
    by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("save attempt")
        verbose_name_plural = _("save attempts")
        ordering = ["made_at", "pk"]

    def __str__(self) -> str:
        return self.offer[:60]


class UtiExit(models.TextChoices):
    OPEN = "open", _("In UTI")
    RECOVERED = "recovered", _("Back to ongoing")
    CHURNED = "churned", _("Churned after all")


class UtiStay(models.Model):
    """The recovery month after a saved churn request: a plan of touchpoints and an exit decision."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="uti_stays")
    churn_request = models.OneToOneField(ChurnRequest, on_delete=models.CASCADE, related_name="uti_stay")
    started_on = models.DateField()
    ends_on = models.DateField()
    exit = models.CharField(max_length=16, choices=UtiExit.choices, default=UtiExit.OPEN)
    exited_on = models.DateField(null=True, blank=True)
    exit_notes = models.TextField(blank=True)

    class Meta:
        verbose_name = _("UTI stay")
        verbose_name_plural = _("UTI stays")
        ordering = ["ends_on"]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(exit="open"), name="portfolio_one_open_uti")
        ]
        indexes = [
            # My day's customers in UTI: the open stays, the soonest to end first (a leader's first 20 of hundreds
            # read without joining every one to its customer).
            models.Index(fields=["ends_on", "id"], condition=Q(exit="open"), name="portfolio_uti_open_ends"),
            # The UTI board's latest exits: the last 20 stays left, read newest first without joining every stay
            # ever left to its customer (a leader's thousands).
            models.Index(fields=["-exited_on"], condition=~Q(exit="open"), name="portfolio_uti_exits_latest"),
        ]

    def __str__(self) -> str:
        return f"UTI {self.customer_id} until {self.ends_on}"

    @property
    def days_left(self) -> int:
        return (self.ends_on - timezone.localdate()).days


class OpportunityKind(models.TextChoices):
    UPSELL = "upsell", _("Upsell")
    CROSS_SELL = "cross_sell", _("Cross-sell")


class OpportunitySource(models.TextChoices):
    PROACTIVE = "proactive", _("Proactive")
    REACTIVE = "reactive", _("Reactive")


class OpportunityStage(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ExpansionOpportunity(models.Model):
    """A chance to grow a customer: a bigger plan (upsell) or another product (cross-sell)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="opportunities")
    kind = models.CharField(_("kind"), max_length=16, choices=OpportunityKind.choices)
    source = models.CharField(_("source"), max_length=16, choices=OpportunitySource.choices)
    title = models.CharField(_("title"), max_length=200)
    mrr_cents = models.BigIntegerField(_("MRR value (cents)"), validators=[MinValueValidator(1)])
    stage = models.CharField(_("stage"), max_length=16, choices=OpportunityStage.choices, default="identified")
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("expansion opportunity")
        verbose_name_plural = _("expansion opportunities")

    def __str__(self) -> str:
        return self.title


class SavedView(models.Model):
    """A person's named set of portfolio filters, sort and page size, kept as the list's query string (only the
    filters the list knows, normalised when saved), so that opening it is a plain link."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolio_views")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved portfolio view")
        verbose_name_plural = _("saved portfolio views")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["person", "name"], name="saved_view_name_per_person")]

    def __str__(self) -> str:
        return self.name


class MorningDigest(models.Model):
    """One person's morning digest of one day (their day, in their time zone). The row is the claim that makes
    the digest go out once per person and day, however many times and however concurrently the job runs: it is
    inserted, in the transaction that sends the email, before anything is sent (portfolio.digest)."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    items = models.PositiveIntegerField(_("items"), default=0)  # 0: nothing to say, nothing was sent
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("morning digest")
        verbose_name_plural = _("morning digests")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="portfolio_one_digest_per_user_day")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"


class NotificationKind(models.TextChoices):
    DETRACTOR = "detractor", _("Detractor answer")
    CHURN_REQUEST = "churn_request", _("Churn request opened")
    REASSIGNED = "reassigned", _("Customer reassigned to you")
    HANDOFF = "handoff", _("Handoff received")


class Notification(models.Model):
    """Something that happened to one of the person's customers, for the bell in the top bar. Created by event
    subscribers (portfolio's and surveys'), once per occurrence and person (``origin_key``); ``facts`` holds
    what the line shows besides the customer (a score), written at read time in the reader's language."""

    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    facts = models.JSONField(_("facts"), default=dict, blank=True)
    origin_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "origin_key"], name="portfolio_one_notification_per_origin")
        ]
        indexes = [models.Index(fields=["recipient", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id} → {self.recipient_id}"


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Nothing imported")


class ImportJob(models.Model):
    """A large CSV import confirmed by a person and written by a background job: the file as checked, how it
    went, and its result — the counts, or the rows to fix (all rows or none, as on the page)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(max_length=20)
    text = models.TextField()
    rows = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # How many times the job was queued, and when it was last queued or started: a job queued or running for
    # too long (its worker died) is queued again, up to LEME_IMPORT_JOB_ATTEMPTS times, then failed
    # (``imports.import_jobs_recover``).
    attempts = models.PositiveSmallIntegerField(default=1)
    status_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        indexes = [models.Index(fields=["actor", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} ({self.rows})"

    @property
    def finished(self) -> bool:
        return self.status in (ImportJobStatus.DONE, ImportJobStatus.FAILED)
