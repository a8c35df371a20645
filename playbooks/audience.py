"""Which customers a playbook version applies to, as filters on ``Customer``: the engine enrols with them
(one customer on an event, thousands at once in the daily check) and the pages show them, so both agree."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from playbooks.models import OPEN_RUN_STATUSES, Playbook, PlaybookVersion, Run
from portfolio.models import Activity, ActivityKind, Customer, MrrMovement, Stage, Subscription


def team_q(playbook: Playbook, prefix: str = "") -> Q:
    """A team's playbook applies to the team's customers: by their owner, or by their ISM while they have no
    owner (the door's rule). A company-wide one applies to every customer."""
    if playbook.team_id is None:
        return Q()
    members = User.objects.filter(team_id=playbook.team_id).values("pk")
    return Q(**{f"{prefix}owner__in": members}) | Q(
        **{f"{prefix}owner__isnull": True, f"{prefix}implementation_manager__in": members}
    )


def audience_q(version: PlaybookVersion, prefix: str = "") -> Q:
    """The version's audience; an empty list means any. Churned customers are never in an audience."""
    q = ~Q(**{f"{prefix}stage": Stage.CHURNED})
    for field in ("service_model", "segment", "stage", "plan_tier"):
        values = getattr(version, f"{field}s")
        if values:
            q &= Q(**{f"{prefix}{field}__in": values})
    if version.mrr_min_cents is not None:
        q &= Q(**{f"{prefix}mrr_cents__gte": version.mrr_min_cents})
    if version.mrr_max_cents is not None:
        q &= Q(**{f"{prefix}mrr_cents__lte": version.mrr_max_cents})
    return q


def not_recently_run_q(playbook: Playbook, now: datetime) -> Q:
    """Customers free to enter ``playbook``: no open run of it, and none that ended within its cool-down."""
    cooled = now - timedelta(days=playbook.cooldown_days)
    runs = Run.objects.filter(playbook_id=playbook.pk, customer_id=OuterRef("pk"))
    return ~Exists(runs.filter(Q(status__in=OPEN_RUN_STATUSES) | Q(ended_at__gte=cooled)))


def in_audience_on(version: PlaybookVersion, pairs: set[tuple[int, date]]) -> set[tuple[int, date]]:
    """Of ``(customer id, day)`` pairs, those whose customer was in the version's audience ON THAT DAY (the
    report's comparison group: who met the trigger without the playbook, and would have been enrolled):

    * the stage: the last stage change on or before the day (its "to"), else the first one after it (its
      "from"), else the stage now if it held that day (not known otherwise: then only a play for any stage
      counts the customer);
    * the service model, segment and plan: those the MRR ledger noted at the start of the latest month with a
      movement on or before the day, else the customer's now;
    * the MRR: the subscriptions in force that day.

    Four queries whatever the number of pairs."""
    if not pairs:
        return set()
    ids = {customer_id for customer_id, _day in pairs}
    now = {
        row["pk"]: row
        for row in Customer.objects.filter(pk__in=ids).values(
            "pk", "stage", "stage_changed_at", "service_model", "segment", "plan_tier"
        )
    }
    stage_changes = defaultdict(list)
    for row in (
        Activity.objects.filter(customer_id__in=ids, kind=ActivityKind.STAGE_CHANGE)
        .order_by("happened_at", "pk")
        .values("customer_id", "happened_at", "data")
    ):
        stage_changes[row["customer_id"]].append((timezone.localdate(row["happened_at"]), row["data"] or {}))
    movements = defaultdict(list)
    for row in (
        MrrMovement.objects.filter(customer_id__in=ids)
        .order_by("month")
        .values("customer_id", "month", "service_model", "segment", "plan_tier")
    ):
        movements[row["customer_id"]].append(row)
    subscriptions = defaultdict(list)
    for subscription in Subscription.objects.filter(customer_id__in=ids).only(
        "customer_id", "start_date", "end_date", "amount_cents", "billing_period", "is_trial", "status"
    ):
        subscriptions[subscription.customer_id].append(subscription)

    def stage_on(customer_id: int, day: date) -> str | None:
        changes = stage_changes[customer_id]
        before = [data for on, data in changes if on <= day]
        if before:
            return before[-1].get("to") or now[customer_id]["stage"]
        after = [data for on, data in changes if on > day]
        if after and after[0].get("from"):
            return after[0]["from"]
        # No timeline entry: the stage now, if it already held that day; else not known (not churned, then).
        changed_at = now[customer_id]["stage_changed_at"]
        return now[customer_id]["stage"] if changed_at is None or timezone.localdate(changed_at) <= day else None

    def fields_on(customer_id: int, day: date) -> dict:
        noted = [row for row in movements[customer_id] if row["month"] <= day]
        return noted[-1] if noted else now[customer_id]

    def mrr_on(customer_id: int, day: date) -> int:
        return sum(s.monthly_cents for s in subscriptions[customer_id] if s.runs_on(day))

    def fits(customer_id: int, day: date) -> bool:
        if customer_id not in now:
            return False
        stage = stage_on(customer_id, day)
        fields = fields_on(customer_id, day)
        if stage == Stage.CHURNED or (version.stages and (stage is None or stage not in version.stages)):
            return False
        for field in ("service_model", "segment", "plan_tier"):
            allowed = getattr(version, f"{field}s")
            if allowed and fields[field] not in allowed:
                return False
        if version.mrr_min_cents is None and version.mrr_max_cents is None:
            return True
        mrr = mrr_on(customer_id, day)
        return (version.mrr_min_cents is None or mrr >= version.mrr_min_cents) and (
            version.mrr_max_cents is None or mrr <= version.mrr_max_cents
        )

    return {pair for pair in pairs if fits(*pair)}
