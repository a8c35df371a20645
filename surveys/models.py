"""Surveys: campaigns sent by email to customers' contacts (NPS, CSAT, CES, CHI) or to employees (eNPS),
one delivery per person, and the answers they give on a public page."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from portfolio.models import Contact, Customer


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS")
    CSAT = "csat", _("CSAT")
    CES = "ces", _("CES")
    ENPS = "enps", _("eNPS")
    CHI = "chi", _("CHI (Customer Happiness Index)")


class CampaignMode(models.TextChoices):
    NOW = "now", _("Send now")
    AT = "at", _("Send at a set time")
    RECURRING = "recurring", _("Recurring (relationship survey)")
    TRANSACTIONAL = "transactional", _("When an event happens")


class Trigger(models.TextChoices):
    HANDOFF = "handoff", _("After the handoff")
    REVIEW = "review", _("After a success review")
    API = "api", _("By API call (e.g. from the support tool)")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class Campaign(models.Model):
    """What to ask, whom, and when. ``team`` bounds whom it may reach (see accounts.access.campaigns_filter);
    ``audience`` narrows customers and contacts within it:
    ``{"segments": [...], "stages": [...], "service_models": [...], "owners": [ids], "plan_tiers": [...],
    "contact_roles": [...]}``; an empty list means any."""

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=8, choices=SurveyKind.choices)
    question_pt = models.CharField(_("question (Portuguese)"), max_length=300)
    question_en = models.CharField(_("question (English)"), max_length=300)
    scale_max = models.PositiveSmallIntegerField(
        _("top of the scale"), default=10, help_text=_("CSAT: 5 or 10. Fixed for the other kinds.")
    )
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    mode = models.CharField(_("when"), max_length=16, choices=CampaignMode.choices, default=CampaignMode.NOW)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    every_days = models.PositiveSmallIntegerField(_("repeat every (days)"), null=True, blank=True)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices, blank=True)
    fatigue_days = models.PositiveSmallIntegerField(
        _("do not survey a contact more than once every (days)"), default=90
    )
    reminder_after_days = models.PositiveSmallIntegerField(_("remind non-responders after (days)"), default=4)
    expires_after_days = models.PositiveSmallIntegerField(_("links expire after (days)"), default=30)
    status = models.CharField(_("status"), max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    # The team the campaign belongs to: it reaches only that team's customers' contacts (or, eNPS, its people),
    # and that team's leaders manage it. None: company-wide, which only admins create and manage. PROTECT: a
    # team's campaign must never widen to the whole company because its team was deleted.
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="survey_campaigns",
        help_text=_("Empty: company-wide (admins only)."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey campaign")
        verbose_name_plural = _("survey campaigns")

    def __str__(self) -> str:
        return self.name

    @property
    def scale_min(self) -> int:
        return {SurveyKind.CSAT: 1, SurveyKind.CES: 1}.get(self.kind, 0)

    @property
    def scale_top(self) -> int:
        if self.kind == SurveyKind.CES:
            return 7
        if self.kind == SurveyKind.CSAT:
            return self.scale_max if self.scale_max in (5, 10) else 5
        return 10

    def question(self, language: str) -> str:
        return self.question_en if language.startswith("en") else self.question_pt


class ChiCriterion(models.Model):
    """One of the (up to) ten Customer Happiness Index criteria, answered 0/1 by the customer or the CSM."""

    class AnsweredBy(models.TextChoices):
        CUSTOMER = "customer", _("The customer")
        CSM = "csm", _("The CSM")

    position = models.PositiveSmallIntegerField(unique=True, validators=[MinValueValidator(1), MaxValueValidator(10)])
    text_pt = models.CharField(max_length=200)
    text_en = models.CharField(max_length=200)
    answered_by = models.CharField(max_length=8, choices=AnsweredBy.choices, default=AnsweredBy.CUSTOMER)

    class Meta:
        verbose_name = _("CHI criterion")
        verbose_name_plural = _("CHI criteria")
        ordering = ["position"]

    def __str__(self) -> str:
        return self.text_pt

    @classmethod
    def answered_by_(cls, who: str) -> list["ChiCriterion"]:
        """The criteria the customer (``AnsweredBy.CUSTOMER``) or the CSM answers, by position."""
        return list(cls.objects.filter(answered_by=who))


class EmployeeAudience(models.TextChoices):
    """Whom an eNPS campaign asks, in ``Campaign.audience["employees"]``."""

    USERS = "users", _("Leme users")
    LIST = "list", _("Imported list")
    BOTH = "both", _("Both")


class EmployeeRecipient(models.Model):
    """Someone of the company who does not use Leme, imported from a spreadsheet so eNPS can ask them too.
    Never shown next to an answer: eNPS is anonymous. Inactive ones are kept (old deliveries point at them)
    but no longer surveyed. Their ``team``'s leaders count their answers, as they do their team's users'."""

    class Language(models.TextChoices):
        PT_BR = "pt-br", _("Portuguese")
        EN = "en", _("English")

    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.PT_BR)
    department = models.CharField(_("department or team"), max_length=100, blank=True)
    # The Leme team whose leader counts this person's eNPS answers; none: only admins count them.
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="employee_recipients",
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
        verbose_name = _("employee (imported)")
        verbose_name_plural = _("employees (imported)")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="surveys_employeerecipient_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")


class SkipReason(models.TextChoices):
    OPTED_OUT = "opted_out", _("Opted out of surveys")
    BOUNCED = "bounced", _("Email bounced before")
    FATIGUE = "fatigue", _("Surveyed recently")
    NO_EMAIL = "no_email", _("No email address")
    OUTSIDE_TEAM = "outside_team", _("Not in the campaign's team")


class _CountedFor(models.Model):
    """Whom and where a survey counts: the customer's CSM, segment, service model and plan when it was sent (a
    delivery) or answered (an answer, a CSM's CHI assessment), kept as they were so that reassigning a
    customer, or moving it to another segment or plan, does not carry its past answers along (DOMAIN.md: "a
    survey answer counts for the owner (and segment, plan) when it was given"). The results' slices, the
    comments' filters, the tallies and the CSV read these, never the customer's current values; who may *see*
    a row still goes through the customer (the door). Empty for eNPS."""

    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("CSM"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    segment = models.CharField(_("segment"), max_length=16, blank=True)
    service_model = models.CharField(_("service model"), max_length=8, blank=True)
    plan_tier = models.CharField(_("plan"), max_length=16, blank=True)

    class Meta:
        abstract = True

    def count_for(self, customer: Customer | None) -> None:
        """Take the customer's CSM, segment, service model and plan as they are now."""
        self.csm_id = customer.owner_id if customer else None
        self.segment = customer.segment if customer else ""
        self.service_model = customer.service_model if customer else ""
        self.plan_tier = customer.plan_tier if customer else ""


COUNTED_FOR_FIELDS = ["csm", "segment", "service_model", "plan_tier"]


class Delivery(_CountedFor):
    """One survey sent to one person in one round of a campaign. The database allows it once, so a
    restarted send can never email anyone twice. Only a hash of the link's token is stored."""

    # Indexed by the (campaign, status) index below; a second index would only slow every send.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    round = models.PositiveIntegerField(default=1)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="enps_deliveries"
    )
    # eNPS to someone of the imported list (EmployeeRecipient) instead of a Leme user.
    recipient = models.ForeignKey(
        EmployeeRecipient, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # eNPS: the team the person was in when surveyed, whose leaders count the answer. Kept as it was, so that
    # moving someone to another team later does not carry their answer there (nor reveal it by the change).
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField()
    language = models.CharField(max_length=8, default="pt-br")
    # Unique through Meta.constraints: exact lookups only, so no pattern-matching (LIKE) index is built.
    token_salt = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    # After a temporary SMTP refusal the send waits until then (growing backoff), so one stuck address
    # does not hold up the rest of the campaign.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey delivery")
        verbose_name_plural = _("survey deliveries")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["token_salt"], name="surveys_delivery_token_salt_unique"),
            models.UniqueConstraint(fields=["token_hash"], name="surveys_delivery_token_hash_unique"),
            models.UniqueConstraint(
                fields=["campaign", "round", "contact"],
                condition=Q(contact__isnull=False),
                name="surveys_one_delivery_per_contact_round",
            ),
            models.UniqueConstraint(
                fields=["campaign", "round", "employee"],
                condition=Q(employee__isnull=False),
                name="surveys_one_delivery_per_employee_round",
            ),
            models.UniqueConstraint(
                fields=["campaign", "round", "recipient"],
                condition=Q(recipient__isnull=False),
                name="surveys_one_delivery_per_recipient_round",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "status"]), models.Index(fields=["email", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.email}"


class Response(_CountedFor):
    """The answer to one delivery: answering again updates it. ``score`` is validated against the kind's
    scale by the service; for CHI it is the number of criteria met and ``chi_answers`` holds each."""

    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="response")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responses")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="survey_responses"
    )
    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    chi_answers = models.JSONField(default=dict, blank=True)
    answered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    follow_up_task_id = models.BigIntegerField(null=True, blank=True)
    loop_closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-answered_at"]
        indexes = [models.Index(fields=["kind", "answered_at"]), models.Index(fields=["customer", "answered_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.score}"


class ChiAssessment(_CountedFor):
    """The CSM's part of a customer's Customer Happiness Index in a CHI campaign: the 0/1 answers to the
    criteria answered by the CSM (``answers`` is ``{"<position>": 0 or 1}``, ``score`` their sum).

    One per (campaign, customer), latest wins: answering again overwrites it and moves ``updated_at``, as the
    customer's own answer to a delivery does. A recurring campaign therefore keeps the CSM's current view,
    not one per round; the customer's part is likewise their latest answer in the campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="chi_assessments")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="chi_assessments")
    answers = models.JSONField(default=dict, blank=True)
    score = models.PositiveSmallIntegerField(default=0)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="surveys_one_chi_assessment_per_customer"),
        ]
        verbose_name = _("CHI assessment")
        verbose_name_plural = _("CHI assessments")

    def __str__(self) -> str:
        return f"CHI {self.campaign_id}/{self.customer_id}: {self.score}"


class _Tally(models.Model):
    """Counts of one campaign rolled up by month and by what the results pages scope and slice by: the
    customer's people as they are now (who may see the counts, through the door), and the CSM, segment,
    service model and plan the rows count for (``_CountedFor``: as they were when given). Written
    only by ``surveys.tallies.rebuild``; read by the results of large scopes (see ``surveys.tallies``)."""

    campaign = models.ForeignKey("Campaign", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    implementation_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    farmer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The slices: the CSM, segment, service model and plan the answers count for (see _CountedFor).
    csm = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    segment = models.CharField(max_length=16)
    service_model = models.CharField(max_length=16)
    plan_tier = models.CharField(max_length=16)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.campaign_id} {self.month}"


class AnswerTally(_Tally):
    """Answers by the month they came in (local time) and score."""

    month = models.DateField()
    score = models.SmallIntegerField()
    answers = models.PositiveIntegerField()
    # Closing the loop (detractors): how many of these answers were followed up, and the time from answer to
    # follow-up added up over them (surveys.results.loop_close_stats divides it by the count).
    loops_closed = models.PositiveIntegerField(default=0)
    loop_time = models.DurationField(null=True)

    class Meta:
        verbose_name = _("answer tally")
        verbose_name_plural = _("answer tallies")


class DeliveryTally(_Tally):
    """Deliveries by the month they were sent (none while unsent): planned, sent, and sent and answered."""

    month = models.DateField(null=True)
    planned = models.PositiveIntegerField()
    sent = models.PositiveIntegerField()
    answered = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("delivery tally")
        verbose_name_plural = _("delivery tallies")


class TallyBuild(models.Model):
    """When the tallies were last rebuilt (one row)."""

    built_at = models.DateTimeField()
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("tally build")
        verbose_name_plural = _("tally builds")

    def __str__(self) -> str:
        return f"tallies built {self.built_at:%Y-%m-%d %H:%M}"


class SurveyDefaults(models.Model):
    """The workspace's defaults for new survey campaigns, set on the Settings page (one row, pk 1). A campaign
    copies them when it is created and keeps its own values afterwards: changing a default changes no campaign
    already made."""

    fatigue_days = models.PositiveSmallIntegerField(
        _("do not survey a contact more than once every (days)"), default=90
    )
    reminder_after_days = models.PositiveSmallIntegerField(_("remind non-responders after (days)"), default=4)
    expires_after_days = models.PositiveSmallIntegerField(_("links expire after (days)"), default=30)

    class Meta:
        verbose_name = _("survey defaults")
        verbose_name_plural = _("survey defaults")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
