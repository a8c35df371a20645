"""Product usage as it arrives, and as the score reads it.

``UsageEvent`` keeps each event a billing or product system sent, once (``source_id`` is the sender's event
id); ``UsageDay`` is the per-customer daily rollup the nightly score reads. Raw events older than the
retention setting are deleted by the beat; the rollups stay.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portfolio.models import Customer, HealthBand, ServiceModel


class UsageEvent(models.Model):
    """One product-usage event: who at the customer did what, when."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="usage_events"
    )
    # The sender's id for the event: sending a batch twice stores each event once.
    source_id = models.CharField(_("event id"), max_length=100, unique=True)
    user_ref = models.CharField(_("user"), max_length=200)
    name = models.CharField(_("event"), max_length=100)
    occurred_at = models.DateTimeField(_("occurred at"))
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("usage event")
        verbose_name_plural = _("usage events")
        indexes = [
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["customer", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.user_ref} {self.occurred_at:%Y-%m-%d}"


class UsageDay(models.Model):
    """One customer's usage on one day (in Leme's time zone): events by name and distinct active users.

    Rebuilt from the raw events for the days that received events; the nightly score reads only these rows.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    active_users = models.IntegerField(default=0)
    events = models.IntegerField(default=0)
    # {"event name": count}
    events_by_name = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("usage day")
        verbose_name_plural = _("usage days")
        constraints = [
            models.UniqueConstraint(fields=["customer", "day"], name="health_one_usage_row_per_customer_day"),
            models.CheckConstraint(condition=Q(active_users__gte=0) & Q(events__gte=0), name="health_usage_counts"),
        ]
        indexes = [models.Index(fields=["day", "customer"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day}: {self.active_users} users, {self.events} events"


# --- The score ------------------------------------------------------------------------------------------


# The bands are portfolio's words: the portfolio list shows and filters them without importing health.
Band = HealthBand


class ProfileStage(models.TextChoices):
    """The part of the journey a profile scores: onboarding customers are not scored on renewal-era
    measures. Ongoing covers customers in UTI too; churned customers are not scored."""

    ONBOARDING = "onboarding", _("Onboarding")
    ONGOING = "ongoing", _("Ongoing")


class HealthProfile(models.Model):
    """How customers of one service model in one part of the journey are scored: the measures, their
    weights and thresholds live in the profile's versions; a run uses the latest version."""

    name = models.CharField(_("name"), max_length=100)
    service_model = models.CharField(_("service model"), max_length=8, choices=ServiceModel.choices)
    stage = models.CharField(_("stage"), max_length=16, choices=ProfileStage.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("health profile")
        verbose_name_plural = _("health profiles")
        ordering = ["service_model", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["service_model", "stage"], name="health_one_profile_per_model_stage")
        ]

    def __str__(self) -> str:
        return self.name


class HealthProfileVersion(models.Model):
    """One version of a profile's scoring rules; a change is a new version, and each day's score keeps the
    version it was computed with.

    ``measures`` is ``{"<measure key>": {"weight": int, "worst": number, "best": number, "fresh_days": int}}``
    (keys in ``health.measures.MEASURES``): a raw value at ``worst`` or beyond gives 0 points, at ``best`` or
    beyond 100, linear between; a measure whose data is older than ``fresh_days`` is left out. Bands: a score
    up to ``red_max`` is red, up to ``yellow_max`` yellow, above it green.

    ``key_events`` names the usage events (``UsageEvent.name``, exactly) the ``depth`` measure counts, sorted;
    empty, it counts every event.
    """

    profile = models.ForeignKey(HealthProfile, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    measures = models.JSONField(_("measures"), default=dict)
    red_max = models.PositiveSmallIntegerField(_("red up to"), default=50)
    yellow_max = models.PositiveSmallIntegerField(_("yellow up to"), default=75)
    key_events = models.JSONField(_("key events"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("health profile version")
        verbose_name_plural = _("health profile versions")
        ordering = ["profile", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "number"], name="health_one_version_number_per_profile"),
            models.CheckConstraint(condition=Q(red_max__lt=models.F("yellow_max")), name="health_bands_in_order"),
            models.CheckConstraint(condition=Q(yellow_max__lte=100), name="health_bands_within_100"),
        ]

    def __str__(self) -> str:
        return f"{self.profile} v{self.number}"


class HealthOverride(models.Model):
    """A person's judgement of a customer's health, shown instead of the computed band until ``ends_on``
    (the nightly run ends it the day after) or until someone ends it. The computed score goes on beside it.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="health_overrides")
    band = models.CharField(_("band"), max_length=8, choices=Band.choices)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    ends_on = models.DateField(_("until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # Empty when the override ran out by itself.
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("health override")
        verbose_name_plural = _("health overrides")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(ended_at__isnull=True), name="health_one_override_in_force"
            ),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=100), name="health_override_score"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.band} until {self.ends_on}"


class HealthScore(models.Model):
    """One customer's computed health on one day, with how it was computed.

    ``score`` is the weighted mean of the measures that had fresh data, rounded half up (None when none had:
    no score, never 0). ``measures`` is ``{"<key>": {"raw": number|None, "points": int|None, "weight": int,
    "contribution": float|None, "left_out": ""|"no_data"|"stale", "facts": {...}}}``: ``contribution`` is the
    points the measure added to the score after the left-out weights were spread; ``facts`` are the numbers
    the explanation quotes. ``override`` is the override in force that day (the computed score stays).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="health_scores")
    day = models.DateField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=8, choices=Band.choices, blank=True)
    profile_version = models.ForeignKey(HealthProfileVersion, on_delete=models.PROTECT, related_name="scores")
    measures = models.JSONField(default=dict)
    override = models.ForeignKey(
        HealthOverride, null=True, blank=True, on_delete=models.SET_NULL, related_name="scores"
    )
    computed_at = models.DateTimeField()
    # The band of the customer's score of the day before, as the run that wrote this row found it ("" when there
    # was none, or the row predates it): "turned red today" reads the day's red rows that were yellow or green
    # the day before from the index below, not every red score of the day each tested against yesterday's.
    previous_band = models.CharField(max_length=8, choices=Band.choices, blank=True, default="")

    class Meta:
        verbose_name = _("health score")
        verbose_name_plural = _("health scores")
        ordering = ["customer", "-day"]
        constraints = [
            # With the band: a CSM's weekly trend (``health.selectors_leader``) counts their customers' scores by band
            # from this index alone, a few entries a customer, instead of each score's wide row (its measures).
            models.UniqueConstraint(
                fields=["customer", "day"], include=["band"], name="health_one_score_per_customer_day"
            ),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=100), name="health_score_0_100"),
        ]
        indexes = [
            # A day's scores of a band, with what "turned red today" filters and sorts them by (the customer, the
            # score, an override): a leader's tens of thousands of red scores are chosen from this index alone, not
            # from the wide rows (their measures) scattered over the table.
            # The day's scores that turned red (yellow or green the day before), worst first: "turned red today".
            models.Index(
                fields=["day", "score"],
                include=["customer", "override", "previous_band"],
                condition=Q(band="red", previous_band__in=["yellow", "green"]),
                name="health_score_turned_red",
            ),
            models.Index(
                fields=["day", "band"],
                include=["id", "customer", "score", "override"],
                name="health_score_day_band_keys",
            ),
            # My day's "turned red today" asks, for each red score of today, whether yesterday's was yellow or
            # green: the probe finds its answer in this index alone (most red customers were red yesterday too).
            models.Index(
                fields=["customer", "day"], condition=~Q(band="red") & ~Q(band=""), name="health_score_not_red"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day}: {self.score} {self.band}"


class HealthBandTally(models.Model):
    """How many scores each day has in each band, over every customer: the leader's weekly trend for someone who
    sees every customer, read from here instead of counting ``HealthScore`` rows (half a million at 50,000
    customers).

    Kept by the database, not by Leme's code: triggers on ``health_healthscore`` (migration 0006) add the rows
    each statement inserts, subtract those it deletes (a customer deleted takes its scores with it) and move those
    whose day or band an update changed, in the writer's transaction. Every path that writes scores (the nightly
    run's upsert, a rerun of the same day, the demo's history, a test's factory) keeps it exact; an override
    changes no score's band. ``manage.py health_tally --check`` compares it with the scores, ``health_tally``
    rebuilds it. ``band`` is empty for a score without data, as on ``HealthScore``.
    """

    day = models.DateField()
    band = models.CharField(max_length=8, choices=Band.choices, blank=True)
    scores = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("health band tally")
        verbose_name_plural = _("health band tallies")
        constraints = [models.UniqueConstraint(fields=["day", "band"], name="health_one_tally_per_day_band")]

    def __str__(self) -> str:
        return f"{self.day} {self.band or '—'}: {self.scores}"
