"""Which survey rows a user may read: the door for surveys. Every read of the survey pages and the API starts
here (the results, the campaign list, comments, exports and CHI build on these querysets):

* customer surveys (NPS, CSAT, CES, CHI) are scoped through the customer they are about, with
  ``portfolio.selectors.customers_visible_to``: leaders see their team's, CSMs their portfolio's;
* eNPS is about the people of the team, so only admins (everyone) and leaders (the teams they oversee)
  read it (``accounts.access.enps_filter``), only aggregated, never next to who answered, and nothing at
  all under ``scoring.ENPS_MIN_ANSWERS`` answers.

``Scope`` says which answers a results page is about (one campaign, or a kind since a date).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from accounts.access import campaigns_filter, campaigns_managed_filter, can_read_enps, enps_filter
from accounts.models import User
from portfolio.models import Contact
from portfolio.selectors import customers_changeable_by, customers_visible_to, of_visible_customers
from surveys import scoring
from surveys.models import Campaign, Delivery, Response, SurveyKind

ENPS = SurveyKind.ENPS


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """Campaigns of the user's teams and the company-wide ones (``accounts.access.campaigns_filter``); eNPS ones
    exist only for those who may read eNPS. Another team's campaign is a 404."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Campaign.objects.none()
    qs = Campaign.objects.filter(campaigns_filter(user))
    if not can_read_enps(user):
        qs = qs.exclude(kind=ENPS)
    return qs


def campaigns_managed_by(user: User) -> QuerySet[Campaign]:
    """Campaigns the user may start, close or change: their teams' (leaders), every one (admins)."""
    return campaigns_visible_to(user).filter(campaigns_managed_filter(user))


def csat_default_scale(user: User) -> int:
    """The scale the CSAT results open on: the latest CSAT campaign's (1–5 when there is none)."""
    latest = campaigns_visible_to(user).filter(kind=SurveyKind.CSAT).order_by("-created_at", "-pk").first()
    return latest.scale_top if latest else 5


# Each scope comes in two halves, customer surveys and eNPS. Counting code asks for the half it needs: one
# OR across both would make PostgreSQL test every row against both scopes, several times slower on a
# leader's hundreds of thousands of rows. Lists that mix kinds (the API) use the whole.


def customer_responses(user: User) -> QuerySet[Response]:
    """Answers to customer surveys the user may count: a plain semi-join on the visible customers."""
    return of_visible_customers(Response, user)


def enps_responses(user: User) -> QuerySet[Response]:
    return Response.objects.filter(Q(kind=ENPS) & enps_filter(user, team="delivery__team"))


def responses_visible_to(user: User) -> QuerySet[Response]:
    """Answers the user may count: customer surveys through the customer, eNPS through the team."""
    customer_surveys = Q(customer__in=customers_visible_to(user)) & ~Q(kind=ENPS)
    enps = Q(kind=ENPS) & enps_filter(user, team="delivery__team")
    return Response.objects.filter(customer_surveys | enps)


def customer_deliveries(user: User) -> QuerySet[Delivery]:
    return of_visible_customers(Delivery, user)


def enps_deliveries(user: User) -> QuerySet[Delivery]:
    # An eNPS delivery goes to a Leme user or to someone of the imported list; leaders count their teams'.
    people = Q(employee__isnull=False) | Q(recipient__isnull=False)
    return Delivery.objects.filter(Q(campaign__kind=ENPS) & people & enps_filter(user, team="team"))


def deliveries_visible_to(user: User) -> QuerySet[Delivery]:
    customer_surveys = Q(customer__in=customers_visible_to(user)) & ~Q(campaign__kind=ENPS)
    return Delivery.objects.filter(customer_surveys) | enps_deliveries(user)


def deliveries_of(user: User, kind: str) -> QuerySet[Delivery]:
    """The half of the user's deliveries a kind is counted from."""
    return enps_deliveries(user) if kind == ENPS else customer_deliveries(user)


def contacts_surveyable_by(user: User) -> QuerySet[Contact]:
    """Contacts the user may survey on demand: those of the customers they may change."""
    return Contact.objects.filter(customer__in=customers_changeable_by(user), archived_at__isnull=True)


def _enps_open_campaigns(user: User) -> QuerySet:
    """eNPS campaigns with at least ENPS_MIN_ANSWERS answers the user may count."""
    return (
        enps_responses(user)
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk"))
        .filter(n__gte=scoring.ENPS_MIN_ANSWERS)
        .values("campaign")
    )


# eNPS answers listed one by one are ordered so that their order tells nothing about when each came in: by
# month, then score, then the delivery's token hash (random, yet stable from page to page).
ENPS_ORDER_TIEBREAK = "delivery__token_hash"
ENPS_ORDER = ("-answered_month", "score", ENPS_ORDER_TIEBREAK)


def responses_for_api(user: User, *, enps: bool = False) -> QuerySet[Response]:
    """The answers the API lists. Customer surveys (``enps=False``), newest first; or eNPS answers alone
    (``enps=True``), only to admins and leaders, only from campaigns that reached the minimum number of answers
    (a lone answer would be as good as a name), with the month they came in (``answered_month``) and in an
    order that tells nothing about time (:data:`ENPS_ORDER`). The two never mix: an eNPS answer's place among
    timed ones would give its time away."""
    if enps:
        # enps_responses is empty for those who may not read eNPS.
        return (
            enps_responses(user)
            .filter(campaign__in=_enps_open_campaigns(user))
            .select_related("campaign", "delivery")
            .annotate(answered_month=TruncMonth("answered_at"))
            .order_by(*ENPS_ORDER)
        )
    return customer_responses(user).select_related("campaign", "delivery").order_by("-answered_at", "-pk")


def enps_hidden(user: User, *, campaign: Campaign | None = None, since: datetime | None = None) -> bool:
    """Whether eNPS answers in this scope are under the minimum, so nothing about them may be shown."""
    qs = enps_responses(user)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if since is not None:
        qs = qs.filter(answered_at__gte=since)
    return qs.count() < scoring.ENPS_MIN_ANSWERS


# --- What a results page is about -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which answers a results page is about: one campaign, or every campaign of a kind since a date (CSAT
    campaigns of one scale, since a 1–5 and a 1–10 answer cannot be added up)."""

    kind: str
    campaign: Campaign | None = None
    since: datetime | None = None
    scale_top: int = 10

    @classmethod
    def of_campaign(cls, campaign: Campaign) -> "Scope":
        return cls(kind=campaign.kind, campaign=campaign, scale_top=campaign.scale_top)

    @classmethod
    def of_kind(cls, kind: str, *, since: datetime | None = None, scale: int | None = None) -> "Scope":
        return cls(kind=kind, since=since, scale_top=scoring.scale_for(kind, scale)[1])

    @property
    def scale_min(self) -> int:
        return scoring.scale_for(self.kind, self.scale_top)[0]

    def narrow(self, qs: QuerySet, *, since: str, since_value=None) -> QuerySet:
        """Rows of ``qs`` (answers, deliveries or tallies, all with a ``campaign``) in this scope; ``since`` is
        the lookup the period applies to (``since_value`` when it is not the moment itself)."""
        if self.campaign is not None:
            return qs.filter(campaign=self.campaign)
        qs = qs.filter(campaign__kind=self.kind)
        if self.kind == SurveyKind.CSAT:
            qs = qs.filter(campaign__scale_max=self.scale_top)
        if self.since is not None:
            qs = qs.filter(**{since: self.since if since_value is None else since_value})
        return qs

    def responses(self, user: User) -> QuerySet[Response]:
        qs = enps_responses(user) if self.kind == ENPS else customer_responses(user)
        return self.narrow(qs, since="answered_at__gte")

    def deliveries(self, user: User) -> QuerySet[Delivery]:
        return self.narrow(deliveries_of(user, self.kind), since="sent_at__gte")


# --- The customer page's survey history (a panel registered in SurveysConfig.ready()) ----------------------

HISTORY_KINDS = (SurveyKind.NPS, SurveyKind.CSAT, SurveyKind.CES)


@dataclass(frozen=True)
class LatestAnswer:
    """A contact's latest answer to one kind of survey."""

    contact_name: str
    kind: str
    kind_label: str
    score: int
    scale_top: int
    band_label: str
    colour: str
    answered_at: datetime
    comment: str
    campaign_id: int


def customer_survey_history(user: User, customer) -> list[LatestAnswer]:
    """The latest NPS, CSAT and CES answer of each of the customer's contacts, newest first, in one query.

    ``customer`` came through the customer page's door; the answers are read through the same scope anyway,
    so this never shows what the user may not count."""
    rows = (
        customer_responses(user)
        .filter(customer=customer, kind__in=HISTORY_KINDS, delivery__contact__isnull=False)
        .select_related("delivery__contact", "campaign")
        .order_by("delivery__contact_id", "kind", "-answered_at", "-pk")
    )
    if connection.vendor == "postgresql":
        rows = rows.distinct("delivery__contact_id", "kind")
    else:
        # The embedded SQLite run has no DISTINCT ON: the same rows, the first of each contact and kind kept here.
        seen: set[tuple[int, str]] = set()
        rows = [r for r in rows if (key := (r.delivery.contact_id, r.kind)) not in seen and not seen.add(key)]
    latest = []
    for response in rows:
        scale_top = response.campaign.scale_top
        band = scoring.band_of(scoring.bands_for(response.kind, scale_top), response.score)
        latest.append(
            LatestAnswer(
                contact_name=response.delivery.contact.name,
                kind=response.kind,
                kind_label=SurveyKind(response.kind).label,
                score=response.score,
                scale_top=scale_top,
                band_label=str(band.label) if band else "",
                colour=band.colour if band else "",
                answered_at=response.answered_at,
                comment=response.comment,
                campaign_id=response.campaign_id,
            )
        )
    return sorted(latest, key=lambda a: a.answered_at, reverse=True)
