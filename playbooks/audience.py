"""Which customers a playbook version applies to, as filters on ``Customer``: the engine enrols with them
(one customer on an event, thousands at once in the daily check) and the pages show them, so both agree."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q

from accounts.models import User
from playbooks.models import OPEN_RUN_STATUSES, Playbook, PlaybookVersion, Run
from portfolio.models import Stage


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
