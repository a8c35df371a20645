"""What the playbook pages read, each scoped to the person: playbooks by ``accounts.access.team_shared_filter``
(company-wide ones and their teams'), runs by the customers they may see (the door)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, DateField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import can_edit_playbooks, can_write, get_visible_or_404, team_shared_filter
from accounts.models import User
from core import clock
from health.models import HealthScore
from playbooks import steps as step_rules
from playbooks.audience import audience_q, in_audience_on, team_q
from playbooks.defaults import REPLACES
from playbooks.engine import run_id_from_origin_key
from playbooks.models import (
    OPEN_RUN_STATUSES,
    EmailStatus,
    Playbook,
    PlaybookStatus,
    PlaybookVersion,
    Run,
    RunStatus,
    RunStep,
    StepEmail,
    TriggerKind,
)
from portfolio.models import Activity, Customer, HealthBand, Stage, Task, TaskStatus
from portfolio.selectors import customers_visible_to, visible_through


def playbooks_visible_to(user: User) -> QuerySet[Playbook]:
    return Playbook.objects.filter(team_shared_filter(user, team="team"))


def playbook_get(user: User, pk: int) -> Playbook:
    """One playbook the person may read, with its live version; 404 otherwise (another team's)."""
    return get_visible_or_404(playbooks_visible_to(user).select_related("team", "live_version"), pk=pk)


def runs_visible_to(user: User) -> QuerySet[Run]:
    return Run.objects.filter(customer__in=customers_visible_to(user).values("pk"))


# --- The list ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaybookRow:
    playbook: Playbook
    trigger: str
    active_runs: int


@dataclass(frozen=True)
class PlaybookListPage:
    rows: list[PlaybookRow]
    can_create: bool


def trigger_text(version: PlaybookVersion | None) -> str:
    """The version's trigger in words, with its parameter ("Stage changed to Onboarding", "Renewal in 90 days")."""
    if version is None:
        return ""
    label = str(version.get_trigger_kind_display())
    params = version.trigger_params or {}
    if params.get("stage"):
        return f"{label.rstrip('…').rstrip()} {Stage(params['stage']).label}"
    if params.get("band"):
        return f"{label.rstrip('…').rstrip()} {str(step_rules.Band(params['band']).label).lower()}"
    if params.get("days") is not None:
        return label.replace("N", str(params["days"]))
    return label


def playbook_list(user: User) -> PlaybookListPage:
    """Every playbook the person reads, with its trigger and how many of the person's customers are in it."""
    # Per playbook, its open runs (a few among many finished ones) each checked against its customer by key:
    # a semi-join on the visible customers instead reads every customer a leader sees, for a few hundred runs.
    open_runs = (
        Run.objects.filter(visible_through(user), playbook=OuterRef("pk"), status__in=OPEN_RUN_STATUSES)
        .order_by()
        .values("playbook")
        .annotate(n=Count("pk"))
        .values("n")
    )
    playbooks = (
        playbooks_visible_to(user)
        .select_related("team", "live_version")
        .annotate(active=Coalesce(Subquery(open_runs), 0))
    )
    rows = [PlaybookRow(p, trigger_text(p.live_version), p.active) for p in playbooks]
    return PlaybookListPage(rows=rows, can_create=can_write(user) and (user.is_admin or user.is_leader))


# --- The detail ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    index: int
    kind: str
    kind_label: str
    text: str
    step: dict


@dataclass(frozen=True)
class RunRow:
    run: Run
    step_text: str
    behind: list[str]  # who has an overdue task from this run


@dataclass(frozen=True)
class PlaybookPage:
    playbook: Playbook
    live: PlaybookVersion | None
    draft: PlaybookVersion | None
    live_steps: list[StepView]
    draft_steps: list[StepView]
    runs: list[RunRow]
    can_edit: bool
    versions: list[PlaybookVersion] = field(default_factory=list)
    report: "PlaybookReport | None" = None
    replaces: str = ""  # for a default that is one of Leme's own rules: what switching it off does


def step_views(steps: list[dict]) -> list[StepView]:
    return [
        StepView(i, s.get("kind", ""), str(step_rules.StepKind(s.get("kind")).label), str(step_rules.describe(s)), s)
        for i, s in enumerate(steps)
    ]


def current_step_text(run: Run) -> str:
    """What the run does next: its next step, or its end once a last wait has passed."""
    steps = run.version.steps
    if run.current_step < len(steps):
        return str(step_rules.describe(steps[run.current_step]))
    return str(_("the run ends"))


def _behind(runs: list[Run], today: date) -> dict[int, list[str]]:
    """For each run, who holds an overdue open task it created: one query for all of them."""
    if not runs:
        return {}
    tasks = (
        Task.objects.filter(
            origin="playbook",
            status=TaskStatus.OPEN,
            due_date__lt=today,
            customer_id__in={r.customer_id for r in runs},
        )
        .select_related("owner")
        .only("origin_key", "owner__full_name")
    )
    found: dict[int, list[str]] = defaultdict(list)
    for task in tasks:
        run_id = run_id_from_origin_key(task.origin_key)
        if run_id is not None and task.owner.full_name not in found[run_id]:
            found[run_id].append(task.owner.full_name)
    return found


def playbook_page(user: User, playbook: Playbook) -> PlaybookPage:
    """A playbook's page: its live version, its draft, the runs under way on the person's customers."""
    versions = list(playbook.versions.order_by("-number"))
    draft = next((v for v in versions if v.published_at is None), None)
    live = playbook.live_version
    runs = list(
        runs_visible_to(user)
        .filter(playbook=playbook, status__in=OPEN_RUN_STATUSES)
        .select_related("customer__owner", "version")
        .order_by("next_due_at", "pk")[:200]
    )
    behind = _behind(runs, clock.today())
    return PlaybookPage(
        playbook=playbook,
        live=live,
        draft=draft,
        live_steps=step_views(live.steps) if live else [],
        draft_steps=step_views(draft.steps) if draft else [],
        runs=[RunRow(r, current_step_text(r), behind.get(r.pk, [])) for r in runs],
        can_edit=can_edit_playbooks(user, playbook.team_id),
        versions=versions,
        report=playbook_report(user, playbook),
        replaces=str(REPLACES.get(playbook.key or "", "")),
    )


# --- "Did it help?" ---------------------------------------------------------------------------------------

# A risk play's outcome is read on runs at least this old, and not told below this many of them.
OUTCOME_MIN_AGE_DAYS = 30
OUTCOME_MIN_RUNS = 10


@dataclass(frozen=True)
class Share:
    count: int
    of: int

    @property
    def percent(self) -> int:
        return round(100 * self.count / self.of) if self.of else 0


@dataclass(frozen=True)
class RiskOutcome:
    """Of the runs started at least ``OUTCOME_MIN_AGE_DAYS`` ago: whose customer is green now, and whose has
    not churned. ``enough`` is False under ``OUTCOME_MIN_RUNS`` runs: too few to tell."""

    runs: int
    green_now: Share
    not_churned: Share

    @property
    def enough(self) -> bool:
        return self.runs >= OUTCOME_MIN_RUNS


# The kind of the timeline entry health writes for a band change (``health.services.HEALTH_ACTIVITY``; a
# selector does not import services).
HEALTH_ACTIVITY = "health"
# The comparison reads each customer's band this many days after it met the trigger.
COMPARISON_DAYS = (30, 90)


@dataclass(frozen=True)
class GroupOutcome:
    """Of ``count`` customers who met the trigger at least N days ago: green N days later, not churned then."""

    count: int
    green: Share
    not_churned: Share


@dataclass(frozen=True)
class Comparison:
    """N days after meeting the trigger: the customers the playbook ran on beside those who met the same
    trigger without it (during its cool-down, or before it existed). ``enough`` is False while either group
    has fewer than ``OUTCOME_MIN_RUNS``: too few to compare, and no percentage is claimed."""

    days: int
    played: GroupOutcome
    others: GroupOutcome

    @property
    def enough(self) -> bool:
        return self.played.count >= OUTCOME_MIN_RUNS and self.others.count >= OUTCOME_MIN_RUNS

    @property
    def groups(self) -> list[tuple[str, GroupOutcome]]:
        return [(str(_("With the playbook")), self.played), (str(_("Without it")), self.others)]


@dataclass(frozen=True)
class PlaybookReport:
    """What a playbook's runs on the person's customers did: runs started, completed and exited (and why), the
    tasks they created and what became of them, their emails (sent, bounced, held back by the weekly cap, and
    the contacts who unsubscribed from playbook emails through one of them), and, for a play started by a band
    turning red, how the customers are doing now."""

    started: int
    completed: int
    exited: int
    open: int
    exit_reasons: list[tuple[str, int]]
    tasks: int
    tasks_done: int
    tasks_done_on_time: int
    tasks_open: int
    tasks_open_overdue: int
    tasks_cancelled: int
    emails_sent: int
    emails_bounced: int
    emails_held: int
    emails_waiting: int
    emails_unsubscribed: int
    outcome: RiskOutcome | None
    comparisons: list[Comparison] = field(default_factory=list)
    outcome_min_age_days: int = OUTCOME_MIN_AGE_DAYS
    outcome_min_runs: int = OUTCOME_MIN_RUNS


def is_risk_play(version: PlaybookVersion | None) -> bool:
    """Whether the version starts when a customer's health band changes to red."""
    return bool(
        version
        and version.trigger_kind == TriggerKind.HEALTH_BAND_CHANGED
        and (version.trigger_params or {}).get("band") == HealthBand.RED
    )


def playbook_report(user: User, playbook: Playbook) -> PlaybookReport:
    """The "did it help?" report of ``playbook`` on the customers the person sees (the door): four queries
    however many runs, tasks and steps, and three more for a risk play's comparison group."""
    runs = runs_visible_to(user).filter(playbook=playbook)
    old_enough = Q(started_at__lte=clock.now() - timedelta(days=OUTCOME_MIN_AGE_DAYS))
    counts = runs.aggregate(
        started=Count("pk"),
        completed=Count("pk", filter=Q(status=RunStatus.COMPLETED)),
        exited=Count("pk", filter=Q(status=RunStatus.EXITED)),
        open=Count("pk", filter=Q(status__in=OPEN_RUN_STATUSES)),
        old=Count("pk", filter=old_enough),
        old_green=Count("pk", filter=old_enough & Q(customer__health_band=HealthBand.GREEN)),
        old_not_churned=Count("pk", filter=old_enough & ~Q(customer__stage=Stage.CHURNED)),
    )
    reasons = list(
        runs.filter(status=RunStatus.EXITED)
        .values("exit_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "exit_reason")
        .values_list("exit_reason", "n")
    )
    today = clock.today()
    has_task = Q(task__isnull=False)
    steps = RunStep.objects.filter(run__in=runs.values("pk")).aggregate(
        tasks=Count("task", filter=has_task),
        done=Count("task", filter=Q(task__status=TaskStatus.DONE)),
        on_time=Count(
            "task", filter=Q(task__status=TaskStatus.DONE, task__completed_at__date__lte=F("task__due_date"))
        ),
        open=Count("task", filter=Q(task__status=TaskStatus.OPEN)),
        overdue=Count("task", filter=Q(task__status=TaskStatus.OPEN, task__due_date__lt=today)),
        cancelled=Count("task", filter=Q(task__status=TaskStatus.CANCELLED)),
    )
    mail = StepEmail.objects.filter(run__in=runs.values("pk")).aggregate(
        sent=Count("pk", filter=Q(status=EmailStatus.SENT)),
        bounced=Count("pk", filter=Q(status=EmailStatus.BOUNCED)),
        held=Count("pk", filter=Q(status=EmailStatus.HELD)),
        waiting=Count("pk", filter=Q(status=EmailStatus.PENDING)),
        # at most one opt-out names an email (one per contact): the join repeats no row
        unsubscribed=Count("opt_outs"),
    )
    outcome = None
    if is_risk_play(playbook.live_version):
        old = counts["old"]
        outcome = RiskOutcome(
            runs=old,
            green_now=Share(counts["old_green"], old),
            not_churned=Share(counts["old_not_churned"], old),
        )
    comparisons = comparisons_of(user, playbook) if outcome is not None else []
    return PlaybookReport(
        comparisons=comparisons,
        started=counts["started"],
        completed=counts["completed"],
        exited=counts["exited"],
        open=counts["open"],
        exit_reasons=[(reason or str(_("no reason given")), n) for reason, n in reasons],
        tasks=steps["tasks"],
        tasks_done=steps["done"],
        tasks_done_on_time=steps["on_time"],
        tasks_open=steps["open"],
        tasks_open_overdue=steps["overdue"],
        tasks_cancelled=steps["cancelled"],
        emails_sent=mail["sent"],
        emails_bounced=mail["bounced"],
        emails_held=mail["held"],
        emails_waiting=mail["waiting"],
        emails_unsubscribed=mail["unsubscribed"],
        outcome=outcome,
    )


def _band_on(days: int):
    """The band people saw on the customer ``days`` days after the row's ``met_on``: the last score on or
    before that day (an override's band while one was in force)."""
    return Subquery(
        HealthScore.objects.filter(
            customer_id=OuterRef("customer_id"),
            day__lte=ExpressionWrapper(OuterRef("met_on") + timedelta(days=days), output_field=DateField()),
        )
        .order_by("-day")
        .annotate(shown=Coalesce(NullIf("override__band", Value("")), "band"))
        .values("shown")[:1]
    )


def _outcome_rows(rows: QuerySet) -> list[dict]:
    """``rows`` (with ``customer_id`` and ``met_on``) with the band 30 and 90 days later and when, if ever,
    the customer churned."""
    bands = {f"band_{n}": _band_on(n) for n in COMPARISON_DAYS}
    return list(
        rows.annotate(**bands).values(
            "customer_id", "met_on", "customer__stage", "customer__stage_changed_at", *bands.keys()
        )
    )


def _group(rows: list[dict], days: int, today: date) -> GroupOutcome:
    old = [r for r in rows if r["met_on"] + timedelta(days=days) <= today]
    green = sum(1 for r in old if r[f"band_{days}"] == HealthBand.GREEN)

    def churned_by(r: dict) -> bool:
        churned_at = r["customer__stage_changed_at"]
        return r["customer__stage"] == Stage.CHURNED and timezone.localdate(churned_at) <= r["met_on"] + timedelta(
            days=days
        )

    not_churned = sum(1 for r in old if not churned_by(r))
    return GroupOutcome(len(old), Share(green, len(old)), Share(not_churned, len(old)))


def comparisons_of(user: User, playbook: Playbook) -> list[Comparison]:
    """For a play started by a health band turning red: the customers it ran on, and the customers of its team
    the person sees who turned red without it, either during its cool-down after a run of theirs or before the
    playbook existed, and who were in its audience that day (``audience.in_audience_on``), each read 30 and 90
    days later (green? churned?). A band change is the customer's health timeline entry (one per customer and
    day, from the nightly score or an override). Seven queries however long the history."""
    version = playbook.live_version
    band = (version.trigger_params or {}).get("band", HealthBand.RED)
    today = clock.today()
    visible = customers_visible_to(user).filter(team_q(playbook)).values("pk")
    runs = Run.objects.filter(playbook=playbook, customer__in=visible).annotate(met_on=TruncDate("started_at"))
    played = _outcome_rows(runs)
    # The runs of those customers, to tell apart who was enrolled, who was in the playbook already, and who was
    # held back by the cool-down (kept in Python: a few per customer).
    spans = defaultdict(list)
    for run in runs.values("customer_id", "started_at", "ended_at", "trigger_key"):
        spans[run["customer_id"]].append(run)
    created_on = timezone.localdate(playbook.created_at)
    cooldown = timedelta(days=playbook.cooldown_days)
    changes = Activity.objects.filter(
        kind=HEALTH_ACTIVITY, customer__in=visible, data__to=band, happened_at__date__lte=today
    ).annotate(
        met_on=Coalesce(Cast(KT("data__day"), DateField()), TruncDate("happened_at")),
    )

    def without_playbook(row: dict) -> bool:
        met_on = row["met_on"]
        held_back = False
        for run in spans.get(row["customer_id"], []):
            started_on = timezone.localdate(run["started_at"])
            ended_on = timezone.localdate(run["ended_at"]) if run["ended_at"] else None
            if run["trigger_key"] == f"band:{met_on.isoformat()}:{band}" or (
                started_on <= met_on and (ended_on is None or ended_on > met_on)
            ):
                return False  # the playbook took it, or the customer was in it already
            if ended_on is not None and ended_on <= met_on < ended_on + cooldown:
                held_back = True
        return held_back or met_on < created_on

    others = [r for r in _outcome_rows(changes) if without_playbook(r)]
    # Only those the playbook would have enrolled: in its audience (stage, service model, segment, plan, MRR)
    # as they were on the day they met the trigger.
    fitting = in_audience_on(version, {(r["customer_id"], r["met_on"]) for r in others})
    others = [r for r in others if (r["customer_id"], r["met_on"]) in fitting]
    return [Comparison(n, _group(played, n, today), _group(others, n, today)) for n in COMPARISON_DAYS]


# --- A run ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunPage:
    run: Run
    steps: list[tuple[StepView, RunStep | None, list[StepEmail]]]


def run_page(user: User, pk: int) -> RunPage:
    run = get_visible_or_404(
        runs_visible_to(user).select_related("playbook", "version", "customer", "started_by"), pk=pk
    )
    done = {s.index: s for s in run.run_steps.select_related("task")}
    sent = defaultdict(list)
    for email in run.emails.select_related("contact").order_by("index", "pk"):
        sent[email.index].append(email)
    return RunPage(
        run=run,
        steps=[(view, done.get(view.index), sent[view.index]) for view in step_views(run.version.steps)],
    )


def run_url_for_task(task) -> str:
    """Where a playbook's task leads: the run that created it (read from its origin key, no query)."""
    run_id = run_id_from_origin_key(getattr(task, "origin_key", None))
    return reverse("playbooks:run", args=[run_id]) if run_id else ""


# --- The customer page's panel and the portfolio list's bulk bar ---------------------------------------------


@dataclass(frozen=True)
class CustomerRuns:
    customer: Customer
    open_runs: list[RunRow]
    ended_runs: list[Run]
    startable: list[Playbook]


def startable_playbooks(user: User) -> list[Playbook]:
    """Active playbooks the person may start by hand (those they read; the audience is checked on start)."""
    if not can_write(user):
        return []
    return list(playbooks_visible_to(user).filter(status=PlaybookStatus.ACTIVE, live_version__isnull=False))


def customer_runs(user: User, customer: Customer) -> CustomerRuns:
    """The runs a customer is in (with their next step and its date), its last ended ones, and the playbooks
    the person may start on it: three queries however many runs."""
    runs = list(customer.playbook_runs.select_related("playbook", "version").order_by("-started_at", "-pk")[:20])
    open_runs = [r for r in runs if r.status in OPEN_RUN_STATUSES]
    ended = [r for r in runs if r.status not in OPEN_RUN_STATUSES][:5]
    return CustomerRuns(
        customer=customer,
        open_runs=[RunRow(r, current_step_text(r), []) for r in open_runs],
        ended_runs=ended,
        startable=startable_playbooks(user),
    )


def bulk_start_options(user: User) -> list[Playbook] | None:
    playbooks = startable_playbooks(user)
    return playbooks or None


# --- The preview ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    customer: Customer
    version: PlaybookVersion
    planned: list[step_rules.PlannedStep]
    in_audience: bool
    started_at: datetime


def preview(user: User, playbook: Playbook, customer_pk: int, *, version: PlaybookVersion | None = None) -> Preview:
    """What the draft (or ``version``) would do on a real customer the person sees, as of now: the tasks (for
    whom, due when) and emails, assuming each wait passes. Reads only."""
    customer = get_visible_or_404(
        customers_visible_to(user).select_related(
            "owner__team__leader", "implementation_manager__team__leader", "farmer"
        ),
        pk=customer_pk,
    )
    version = version or playbook.versions.filter(published_at__isnull=True).first() or playbook.live_version
    in_audience = Customer.objects.filter(pk=customer.pk).filter(team_q(playbook), audience_q(version)).exists()
    now = clock.now()
    open_run = (
        Run.objects.filter(playbook=playbook, customer=customer, status__in=OPEN_RUN_STATUSES).only("facts").first()
    )
    facts = open_run.facts if open_run else {}
    planned = step_rules.plan(version.steps, customer=customer, today=clock.today(), facts=facts, started_at=now)
    return Preview(customer=customer, version=version, planned=planned, in_audience=in_audience, started_at=now)
