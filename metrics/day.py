"""What metrics adds to My day: the two or three figures that matter to the person this month, each a link to
the metrics page (registered in ``MetricsConfig.ready()``).

A CSM (or farmer) sees their portfolio's MRR change this month (net new MRR, with the MRR now); a leader, an
admin or a viewer sees the customers they may read: net new MRR and logo churn this month. The open churn
requests are already My day's own tile. The figures are the metrics page's own (the same rollups, the owner at
the start of the month, DOMAIN.md's definitions): one query. My day never rebuilds rollups itself (it is the
page everyone opens first): a worker refreshes them seconds after a change, and in the embedded run, where there is
none, the demo's seed builds them and the metrics page refreshes what is stale when it is opened."""

from dataclasses import dataclass
from datetime import date

from accounts.access import sees_every_person
from accounts.models import OWNER_ROLES, User
from metrics.figures import Figure, Totals, headline
from metrics.links import query_of
from metrics.periods import PeriodKind
from metrics.selectors import SUMS, MetricsFilters, rollups_visible_to
from portfolio.ledger import month_start


@dataclass(frozen=True)
class DayFigures:
    month: date
    leads: bool  # the team's figures (with logo churn), not one portfolio's
    net_new: Figure
    mrr: Figure
    logo_churn: Figure
    churned: Figure
    query: str  # the metrics page's state for this month and scope


def day_figures(user: User, today: date) -> DayFigures | None:
    """This month's figures for ``user`` on My day; None for someone who neither owns customers nor reads a
    team's (an ISM's onboardings are not a portfolio)."""
    leads = sees_every_person(user)
    if not leads and user.role not in OWNER_ROLES:
        return None
    month = month_start(today)
    filters = MetricsFilters() if leads else MetricsFilters(owner=user.pk)
    row = rollups_visible_to(user).filter(filters.rollup_q(), period_start=month, period_end=month).aggregate(**SUMS)
    figures = headline(Totals.of(row))
    return DayFigures(
        month=month,
        leads=leads,
        net_new=figures["net_new"],
        mrr=figures["mrr"],
        logo_churn=figures["logo_churn"],
        churned=figures["churned"],
        query=query_of(PeriodKind.MONTH, month, filters),
    )
