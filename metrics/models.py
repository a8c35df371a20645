"""The metrics rollups: the ledger's figures summed ahead of time, so pages never add up customer-months.

Derived data only: ``metrics.rollups`` rebuilds them from ``portfolio.MrrMovement`` (after the ledger changes
and nightly), and ``metrics_rebuild --check`` proves they equal a computation straight from the ledger.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import clock
from portfolio.models import PlanTier, Segment, ServiceModel


def _person(**kwargs) -> models.ForeignKey:
    """A person a derived row names: never a constraint holding them back from deletion (the row is rebuilt)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        **kwargs,
    )


class Slice(models.Model):
    """The slice a row of derived figures belongs to: the owner, segment, plan and service model its customers
    had (at the start of the period, or in a cohort's month 0). Rebuilt from the ledger, never the source of
    anything: no constraint holds a person back from deletion."""

    owner = _person()
    segment = models.CharField(max_length=16, choices=Segment.choices)
    plan_tier = models.CharField(max_length=16, choices=PlanTier.choices)
    service_model = models.CharField(max_length=8, choices=ServiceModel.choices)

    class Meta:
        abstract = True


class Rollup(Slice):
    """The totals of one period (``period_start`` to ``period_end``, whole months, both included) for one
    slice: the owner, segment, plan and service model of its customers at the start of the period.

    One row per period and slice that has customers; a page adds up the rows its filters and the door keep.
    The fields are :class:`metrics.figures.Totals` (cents and customer counts).
    """

    period_start = models.DateField()
    period_end = models.DateField()

    customers_start = models.IntegerField(default=0)
    mrr_start_cents = models.BigIntegerField(default=0)
    customers_end = models.IntegerField(default=0)
    mrr_end_cents = models.BigIntegerField(default=0)
    new_cents = models.BigIntegerField(default=0)
    expansion_cents = models.BigIntegerField(default=0)
    reactivation_cents = models.BigIntegerField(default=0)
    contraction_cents = models.BigIntegerField(default=0)
    churn_cents = models.BigIntegerField(default=0)
    new_customers = models.IntegerField(default=0)
    expansion_customers = models.IntegerField(default=0)
    reactivation_customers = models.IntegerField(default=0)
    contraction_customers = models.IntegerField(default=0)
    churn_customers = models.IntegerField(default=0)
    churned_customers = models.IntegerField(default=0)
    voluntary_churned = models.IntegerField(default=0)
    involuntary_churned = models.IntegerField(default=0)
    voluntary_churn_cents = models.BigIntegerField(default=0)
    involuntary_churn_cents = models.BigIntegerField(default=0)
    joined_and_churned = models.IntegerField(default=0)
    retained_mrr_cents = models.BigIntegerField(default=0)
    start_customers_mrr_end_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("rollup")
        verbose_name_plural = _("rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["period_start", "period_end", "owner", "segment", "plan_tier", "service_model"],
                name="metrics_one_rollup_per_period_slice",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="metrics_period_order"),
        ]
        indexes = [models.Index(fields=["period_end", "period_start"])]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m}..{self.period_end:%Y-%m} {self.owner_id} {self.segment}"


class StaleMonth(models.Model):
    """A month from which the rollups no longer match the ledger (a subscription changed). The refresh job
    rebuilds every period ending in or after the earliest one, then deletes them: many changes in a burst
    make one rebuild."""

    month = models.DateField(unique=True)
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stale month")
        verbose_name_plural = _("stale months")

    def __str__(self) -> str:
        return f"stale from {self.month:%Y-%m}"


class Build(models.Model):
    """When derived rows were last rebuilt in full (one row, pk 1), and how long it took."""

    built_at = models.DateTimeField()
    seconds = models.FloatField(default=0)

    class Meta:
        abstract = True


class RollupBuild(Build):
    """When the rollups were last rebuilt in full (one row), for the page's "figures as of"."""

    class Meta:
        verbose_name = _("rollup build")
        verbose_name_plural = _("rollup builds")

    def __str__(self) -> str:
        return f"rollups built {self.built_at:%Y-%m-%d %H:%M}"


class CohortCell(Slice):
    """One cell of the cohort (*safra*) tables for one slice: of the customers whose first paid month is
    ``cohort`` (month 0), those still paying at the end of ``month`` (``age`` months later) and their MRR then.

    A customer stays in the slice it had in month 0 for the whole row: the owner on the cohort's first day (its
    first owner if it arrived later in the month; the rule of ``portfolio.ledger.owner_at``) and the segment,
    plan and service model of its first ledger row. Derived data, rebuilt from the ledger with the rollups
    (``metrics.cohorts``); ``metrics_rebuild --check`` proves it equals a computation straight from the ledger.
    """

    cohort = models.DateField()
    month = models.DateField()
    age = models.PositiveSmallIntegerField()
    customers = models.IntegerField(default=0)
    mrr_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("cohort cell")
        verbose_name_plural = _("cohort cells")
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "age", "owner", "segment", "plan_tier", "service_model"],
                name="metrics_one_cohort_cell_per_slice",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["cohort", "month"]), models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"cohort {self.cohort:%Y-%m} +{self.age}: {self.customers}"


class CohortOwnerCell(models.Model):
    """The cohort cells of one owner, every segment, plan and service model summed (:class:`CohortCell` grouped by
    cohort, age and owner): what the cohort tables read when the page filters by no segment, plan or service model,
    a few rows per cell instead of one per slice. Written from the cells by the same rebuild; ``metrics_rebuild
    --check`` proves they are the cells' sums."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    cohort = models.DateField()
    month = models.DateField()
    age = models.PositiveSmallIntegerField()
    customers = models.IntegerField(default=0)
    mrr_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("cohort cell per owner")
        verbose_name_plural = _("cohort cells per owner")
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "age", "owner"], name="metrics_one_cohort_owner_cell", nulls_distinct=False
            ),
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"cohort {self.cohort:%Y-%m} +{self.age} owner {self.owner_id}: {self.customers}"


class MonthlySpend(models.Model):
    """The workspace's sales and marketing spend of one month, in integer cents of the reporting currency: what
    CAC divides by the month's new customers. Entered by a leader or an admin (the page, the API or a CSV);
    entering a month again replaces its amount."""

    month = models.DateField(_("month"), unique=True)  # its first day
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="BRL")
    notes = models.TextField(_("notes"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("monthly sales and marketing spend")
        verbose_name_plural = _("monthly sales and marketing spend")
        ordering = ["month"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gte=0), name="metrics_spend_not_negative"),
            models.CheckConstraint(condition=Q(month__day=1), name="metrics_spend_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.amount_cents} {self.currency}"


class MetricsSettings(models.Model):
    """The workspace's settings for its unit economics (one row, pk 1): the gross margin LTV and CAC payback
    multiply ARPA by. Without the row (or its margin), the margin is 100 %: the whole of revenue."""

    gross_margin_percent = models.DecimalField(_("gross margin (%)"), max_digits=5, decimal_places=2, default=100)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("metrics settings")
        verbose_name_plural = _("metrics settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="metrics_settings_singleton"),
            models.CheckConstraint(
                condition=Q(gross_margin_percent__gt=0, gross_margin_percent__lte=100),
                name="metrics_gross_margin_range",
            ),
        ]

    def __str__(self) -> str:
        return f"gross margin {self.gross_margin_percent} %"


class ChurnReasonRollup(Slice):
    """The customers that churned in a period (a churn movement in it) and the MRR they took, per slice (as
    :class:`Rollup`), churn kind and reason: those of the churn request that ended the churn (the latest asked
    by the end of the month of the customer's last churn, resolved as churned or leaving UTI churned). Without
    one, the kind is empty and the reason null: the subscription simply ended. Rebuilt with the rollups."""

    period_start = models.DateField()
    period_end = models.DateField()
    kind = models.CharField(max_length=16, blank=True)
    reason = models.ForeignKey(
        "portfolio.ChurnReason",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    customers = models.IntegerField(default=0)
    churn_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("churn reason rollup")
        verbose_name_plural = _("churn reason rollups")
        indexes = [models.Index(fields=["period_end", "period_start"])]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m}..{self.period_end:%Y-%m} {self.kind} {self.reason_id}: {self.customers}"


class CustomerFact(Slice):
    """One customer's part in one period of the rollups (``metrics.facts``): its MRR at the start and the end, the
    sum of each kind of movement, whether and how it churned, and its slice at the start of the period. The rows
    each :class:`Rollup` of the period sums up, written by the same statement, so the drill-downs read the
    customers behind a figure by index instead of recomputing every customer's facts from the ledger.

    One row per period and customer that takes part in it (MRR at the start or a movement in the period); derived
    data, rebuilt with the rollups, and ``metrics_rebuild --check`` proves it equals the ledger."""

    period_start = models.DateField()
    period_end = models.DateField()
    customer = models.ForeignKey(
        "portfolio.Customer", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    mrr_start_cents = models.BigIntegerField(default=0)
    mrr_end_cents = models.BigIntegerField(default=0)
    new_cents = models.BigIntegerField(default=0)
    expansion_cents = models.BigIntegerField(default=0)
    reactivation_cents = models.BigIntegerField(default=0)
    contraction_cents = models.BigIntegerField(default=0)
    churn_cents = models.BigIntegerField(default=0)
    last_churn_month = models.DateField(null=True, blank=True)  # its last churn in the period, if any
    churn_kind = models.CharField(max_length=16, blank=True)
    churn_reason = models.ForeignKey(
        "portfolio.ChurnReason",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("customer's facts in a period")
        verbose_name_plural = _("customers' facts in periods")
        constraints = [
            models.UniqueConstraint(
                fields=["period_start", "period_end", "customer"], name="metrics_one_fact_per_period_customer"
            ),
        ]
        indexes = [
            # The customers that moved in the period: a drill-down into a movement or a churn reads only those.
            models.Index(
                fields=["period_start", "period_end"],
                condition=Q(new_cents__gt=0)
                | Q(expansion_cents__gt=0)
                | Q(reactivation_cents__gt=0)
                | Q(contraction_cents__gt=0)
                | Q(churn_cents__gt=0)
                | Q(last_churn_month__isnull=False),
                name="metrics_fact_moved",
            ),
            # The customers paying at the period's end, and at its start, largest first: a page of a drill-down
            # into MRR, ARR, paying customers or ARPA (``metrics.selectors.SORTED_BY``) reads its rows in order.
            models.Index(
                "period_start",
                "period_end",
                models.F("mrr_end_cents").desc(),
                "customer",
                condition=Q(mrr_end_cents__gt=0),
                name="metrics_fact_paying_end",
            ),
            models.Index(
                "period_start",
                "period_end",
                models.F("mrr_start_cents").desc(),
                "customer",
                condition=Q(mrr_start_cents__gt=0),
                name="metrics_fact_paying_start",
            ),
            # The customers whose MRR churned in the period, largest first: a page of the churn drill-down.
            models.Index(
                "period_start",
                "period_end",
                models.F("churn_cents").desc(),
                "customer",
                condition=Q(churn_cents__gt=0),
                name="metrics_fact_churned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m}..{self.period_end:%Y-%m} customer {self.customer_id}"


class CohortMember(Slice):
    """A customer's cohort (*safra*: the month of its first ledger row) and its slice in that month 0, the rule of
    ``metrics.cohorts``: what the drill-down of a cohort cell joins the customers' facts with. Derived data, kept
    with the cohort cells; ``metrics_rebuild --check`` proves it equals the ledger."""

    customer = models.OneToOneField(
        "portfolio.Customer", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    cohort = models.DateField(db_index=True)

    class Meta:
        verbose_name = _("cohort member")
        verbose_name_plural = _("cohort members")

    def __str__(self) -> str:
        return f"customer {self.customer_id} in cohort {self.cohort:%Y-%m}"


class OperationsTally(Slice):
    """The CS operations' figures of one closed month, counted ahead of time (``metrics.operations_tallies``): first
    values reached (with the days each took) and due (on time or not), handoffs (timed and on time), detractor answers
    (with the time each loop took to close) and NPS scores, per the person each counts for; and, as of the month's
    last day, the customers with a review cadence (overdue or not) and the tasks overdue.

    ``person``: the customer's ISM (first values), the CSM who received it (handoffs), the CSM the answer counted for
    (answers), the customer's CSM now (reviews), the task's owner (tasks). ``owner``, ``implementation_manager`` and
    ``farmer`` are the customer's people now: the door scopes the rows as it scopes the customers. The slice (segment,
    plan, service model) is the customer's now for milestones, handoffs, reviews and tasks, and the one the answer
    counted for (as given) for answers; the page's "CSM" filter is the customer's owner for the former and ``person``
    for answers, exactly as the live queries filter."""

    class Kind(models.TextChoices):
        FIRST_VALUE_REACHED = "fv_reached"
        FIRST_VALUE_DUE = "fv_due"
        HANDOFF = "handoff"
        DETRACTOR = "detractor"
        NPS = "nps"
        # Figures of the month's last day: the customers with a review cadence (and overdue), the tasks overdue.
        REVIEW = "review"
        TASK_OVERDUE = "task_overdue"

    month = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    person = _person()
    implementation_manager = _person()
    farmer = _person()
    days = models.IntegerField(null=True)  # first value reached: days from the customer's start
    score = models.SmallIntegerField(null=True)  # NPS
    loop = models.DurationField(null=True)  # detractor: from the answer to the touch that closed it (open: null)
    timed = models.BooleanField(default=False)  # handoff: it had a first-success deadline
    on_time = models.BooleanField(default=False)  # first value due: reached by the target; handoff: by the deadline
    overdue = models.BooleanField(default=False)  # review: a review overdue on the month's last day
    n = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("operations tally")
        verbose_name_plural = _("operations tallies")
        indexes = [models.Index(fields=["month", "kind"], name="metrics_opstally_month")]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%Y-%m} × {self.n}"


class OperationsTallyBuild(Build):
    """When the operations tallies were last rebuilt (one row): read only while recent (see
    ``LEME_OPERATIONS_TALLIES_MAX_AGE``)."""

    class Meta:
        verbose_name = _("operations tally build")
        verbose_name_plural = _("operations tally builds")

    def __str__(self) -> str:
        return f"operations tallies built {self.built_at:%Y-%m-%d %H:%M}"

    @classmethod
    def fresh(cls) -> "OperationsTallyBuild | None":
        """The last build, if it is recent enough to be read."""
        build = cls.objects.filter(pk=1).first()
        oldest = clock.now() - timedelta(seconds=settings.LEME_OPERATIONS_TALLIES_MAX_AGE)
        return build if build is not None and build.built_at >= oldest else None
