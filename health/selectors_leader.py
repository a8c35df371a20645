"""What the health pages for leaders and admins read: the team's bands today and over the last 90 days, per
CSM, the customers behind each count, the overrides in force, and the profiles with their versions.

Every customer read starts from the door (``portfolio.selectors.customers_visible_to``): a leader reads their
team, an admin everyone, a CSM their own portfolio. Each page is a fixed number of queries.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.access import (
    can_edit_health_profiles,
    can_read_health_backtest,
    may_see_every_row,
)
from accounts.models import User
from core import clock
from health.models import Band, HealthBandTally, HealthOverride, HealthProfile, HealthProfileVersion, HealthScore
from health.profile_rules import Change, version_diff
from portfolio.models import Customer, CustomerBookTally, Stage
from portfolio.selectors import customers_visible_to, reads_book_tally, sees_every_customer

NO_SCORE = "none"
BANDS = (Band.RED, Band.YELLOW, Band.GREEN, NO_SCORE)
TREND_WEEKS = 13  # weekly points over the last 90 days, today's included


def _band_key(band: str) -> str:
    return band or NO_SCORE


def scored_customers(user: User) -> QuerySet[Customer]:
    """The customers health speaks of: those ``user`` sees, churned ones aside (they are not scored)."""
    return customers_visible_to(user).exclude(stage=Stage.CHURNED)


@dataclass
class BandCount:
    count: int = 0
    mrr_cents: int = 0


@dataclass
class CsmHealth:
    """One CSM's customers by band today (``owner_id`` None: customers without a CSM)."""

    owner_id: int | None
    name: str
    bands: dict[str, BandCount] = field(default_factory=lambda: {band: BandCount() for band in BANDS})

    @property
    def total(self) -> int:
        return sum(cell.count for cell in self.bands.values())

    @property
    def owner_param(self) -> str:
        return str(self.owner_id) if self.owner_id is not None else NO_SCORE


@dataclass(frozen=True)
class TrendPoint:
    """The scores of one day: how many customers were in each band (computed bands, as the nightly run left
    them; ``none``: scored with no data)."""

    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class OverrideInForce:
    customer: Customer
    band: str
    computed_band: str
    reason: str
    by: str
    until: date


@dataclass
class HealthOverview:
    today: date
    totals: dict[str, BandCount]
    csms: list[CsmHealth]
    trend: list[TrendPoint]
    overrides: list[OverrideInForce]
    can_edit_profiles: bool
    can_backtest: bool

    @property
    def customers(self) -> int:
        return sum(cell.count for cell in self.totals.values())


def _trend_counts(user: User, days: list[date], *, sees_everyone: bool) -> list[tuple[date, str, int]]:
    """(day, band, scores) of the ``days`` over the customers ``user`` sees, in one query. Someone who sees every
    customer reads the tally the database keeps (``HealthBandTally``: a few dozen rows); anyone else counts the
    scores of their customers (a semi-join on their ids)."""
    if sees_everyone:
        return list(HealthBandTally.objects.filter(day__in=days, scores__gt=0).values_list("day", "band", "scores"))
    return list(
        HealthScore.objects.filter(day__in=days, customer__in=customers_visible_to(user).values("pk"))
        .values("day", "band")
        # COUNT(*), not of the ids: the scores' (customer, day) index carries the band, so each customer's days are
        # read from it alone (health 0008)
        .annotate(n=Count("*"))
        .order_by()
        .values_list("day", "band", "n")
    )


def _bands_per_csm(user: User) -> list[tuple[int | None, str | None, str, int, int | None]]:
    """(CSM's id, CSM's name, band, customers, MRR) of the customers ``user`` sees that are not churned, in one
    query. Someone who sees every customer reads the book's tally the database keeps (``CustomerBookTally``, where
    it does: at most 144 cells per CSM, summed per CSM and band, each CSM's name read by key); anyone else counts
    their customers (the churned among them counted apart and left out: one pass over the customers, not two)."""
    if reads_book_tally(user):
        name = User.objects.filter(pk=OuterRef("owner_id")).order_by().values("full_name")[:1]
        return list(
            CustomerBookTally.objects.exclude(stage=Stage.CHURNED)
            .values("owner_id", "health_band")
            .annotate(n=Sum("customers"), mrr=Sum("mrr_cents"))
            .filter(n__gt=0)
            .annotate(name=Subquery(name))
            .order_by()
            .values_list("owner_id", "name", "health_band", "n", "mrr")
        )
    rows = (
        customers_visible_to(user)
        .annotate(churned=ExpressionWrapper(Q(stage=Stage.CHURNED), output_field=BooleanField()))
        .values("owner_id", "owner__full_name", "health_band", "churned")
        .annotate(n=Count("pk"), mrr=Sum("mrr_cents"))
        .order_by()
    )
    return [
        (row["owner_id"], row["owner__full_name"], row["health_band"], row["n"], row["mrr"])
        for row in rows
        if not row["churned"]  # not scored
    ]


def health_overview(user: User) -> HealthOverview:
    """The health overview: three queries (bands per CSM today, the weekly trend, the overrides in force), and,
    for a leader, whether the door lets them through to every customer (``sees_every_customer``: asked once per
    request, by an index of the customers' owners, and answered already when another list of the page asked).

    Someone who sees every customer reads the trend from the tally the nightly run keeps, and the bands per CSM
    from the customer book's tally (``portfolio.CustomerBookTally``); admins and a viewer with no team see everyone
    by rule (``accounts.access.sees_every_row_by_rule``); a CSM, ISM or farmer, whose scope is their own customers
    (``may_see_every_row``), counts their customers and their scores live."""
    today = clock.today()
    sees_everyone = sees_every_customer(user)  # by rule, or by looking (asked once per request)
    per_owner: dict[int | None, CsmHealth] = {}
    totals = {band: BandCount() for band in BANDS}
    for owner_id, name, band, n, mrr in _bands_per_csm(user):
        owner = per_owner.setdefault(owner_id, CsmHealth(owner_id, name or ""))
        band = _band_key(band)
        owner.bands[band] = BandCount(n, mrr or 0)
        totals[band].count += n
        totals[band].mrr_cents += mrr or 0
    csms = sorted(per_owner.values(), key=lambda r: (r.owner_id is None, r.name.lower()))

    days = [today - timedelta(weeks=k) for k in range(TREND_WEEKS - 1, -1, -1)]
    counts: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BANDS, 0))
    for day, band, n in _trend_counts(user, days, sees_everyone=sees_everyone):
        counts[day][_band_key(band)] += n
    trend = [TrendPoint(day, counts[day]) for day in days if day in counts]

    overrides = [
        OverrideInForce(
            customer=o.customer,
            band=o.band,
            computed_band=o.customer.health_real_band,
            reason=o.reason,
            by=o.created_by.full_name if o.created_by else "",
            until=o.ends_on,
        )
        for o in HealthOverride.objects.filter(ended_at__isnull=True, customer__in=scored_customers(user).values("pk"))
        .select_related("customer", "created_by")
        .order_by("ends_on", "customer__name")
    ]
    return HealthOverview(
        today=today,
        totals=totals,
        csms=csms,
        trend=trend,
        overrides=overrides,
        can_edit_profiles=can_edit_health_profiles(user),
        can_backtest=can_read_health_backtest(user),
    )


# --- The customers behind a count -------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthCustomerFilters:
    band: str = ""  # red, yellow, green, "none" (no score) or "" (all)
    owner: str = ""  # a CSM's id, "none" (no CSM) or "" (all)

    @classmethod
    def read(cls, params) -> "HealthCustomerFilters":
        """The filters from a query string; anything unknown is no filter."""
        band = params.get("band", "")
        owner = params.get("owner", "")
        return cls(
            band=band if band in BANDS else "",
            owner=owner if owner == NO_SCORE or owner.isdigit() else "",
        )


@dataclass
class HealthCustomersPage:
    filters: HealthCustomerFilters
    page: Page
    mrr_cents: int
    owners: list[tuple[int, str]]


def _summary(user: User, filters: HealthCustomerFilters, customers: QuerySet[Customer]) -> dict:
    """How many ``customers`` there are and their MRR: one query. Someone who sees every customer
    (``reads_book_tally``) reads them from the book's tally (its cells not churned, of the band and CSM asked);
    anyone else counts the customers."""
    if not reads_book_tally(user):
        return customers.aggregate(n=Count("pk"), mrr=Sum("mrr_cents"))
    cells = CustomerBookTally.objects.exclude(stage=Stage.CHURNED)
    if filters.band:
        cells = cells.filter(health_band="" if filters.band == NO_SCORE else filters.band)
    if filters.owner == NO_SCORE:
        cells = cells.filter(owner_id__isnull=True)
    elif filters.owner:
        cells = cells.filter(owner_id=int(filters.owner))
    return cells.aggregate(n=Coalesce(Sum("customers"), 0), mrr=Sum("mrr_cents"))


def health_customers(user: User, filters: HealthCustomerFilters, *, page_number, per_page: int = 50):
    """The customers behind one count of the overview, worst first: three queries (the count and MRR, a page
    of rows, the CSMs to filter by)."""
    customers = scored_customers(user)
    if filters.band == NO_SCORE:
        customers = customers.filter(health_band="")
    elif filters.band:
        customers = customers.filter(health_band=filters.band)
    if filters.owner == NO_SCORE:
        customers = customers.filter(owner__isnull=True)
    elif filters.owner:
        customers = customers.filter(owner_id=int(filters.owner))
    summary = _summary(user, filters, customers)
    ordered = customers.select_related("owner").order_by("health_score", "-mrr_cents", "name", "pk")
    paginator = Paginator(ordered, per_page)
    paginator.count = summary["n"]
    if may_see_every_row(user):
        # A team's people, each probed for one customer in scope (found at once by the owner's index)
        people = User.objects.filter(pk__in=scored_customers(user).values("owner_id"))
    else:
        # A CSM's, ISM's or farmer's own customers (found by the people's indexes) name their CSMs: probing each
        # person instead reads every customer of everyone else to find none in scope (49,000 rows for 1,000)
        people = User.objects.filter(pk__in=scored_customers(user).order_by().values("owner_id").distinct())
    owners = list(people.order_by("full_name").values_list("pk", "full_name"))
    return HealthCustomersPage(
        filters=filters, page=paginator.get_page(page_number), mrr_cents=summary["mrr"] or 0, owners=owners
    )


# --- Profiles -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileSummary:
    profile: HealthProfile
    current: HealthProfileVersion | None


def health_profiles() -> list[ProfileSummary]:
    """Every profile with its current version: two queries. Profiles are the workspace's configuration: every
    person reads them."""
    profiles = list(HealthProfile.objects.order_by("service_model", "stage"))
    current: dict[int, HealthProfileVersion] = {}
    for version in HealthProfileVersion.objects.select_related("created_by").order_by("profile_id", "number"):
        current[version.profile_id] = version
    return [ProfileSummary(profile, current.get(profile.pk)) for profile in profiles]


@dataclass(frozen=True)
class VersionEntry:
    version: HealthProfileVersion
    changes: list[Change]


@dataclass(frozen=True)
class ProfilePage:
    profile: HealthProfile
    current: HealthProfileVersion
    versions: list[VersionEntry]  # newest first, each with what changed from the one before
    can_edit: bool


def _state(version: HealthProfileVersion) -> dict:
    return {
        "measures": version.measures,
        "red_max": version.red_max,
        "yellow_max": version.yellow_max,
        "key_events": version.key_events,
    }


def health_profile_page(user: User, pk: int) -> ProfilePage:
    """One profile, its current rules and its versions with their diffs: two queries."""
    profile = HealthProfile.objects.filter(pk=pk).first()
    if profile is None:
        raise Http404
    versions = list(profile.versions.select_related("created_by").order_by("number"))
    if not versions:
        raise Http404
    entries = []
    previous = None
    for version in versions:
        entries.append(VersionEntry(version, version_diff(previous and _state(previous), _state(version))))
        previous = version
    return ProfilePage(
        profile=profile,
        current=versions[-1],
        versions=entries[::-1],
        can_edit=can_edit_health_profiles(user),
    )
