"""CHI, the Customer Happiness Index: each customer's score in a campaign is the customer's part (their
latest answer on the public page, ``surveys.answers``) plus the CSM's part (``surveys.services_chi``), 0–10.
``combine_chi`` is the one definition of that score: the results (``surveys.results``) and the tallies
(``surveys.tallies``) both count it. The CSM's CHI pages read their customers here."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from accounts.models import User
from portfolio.selectors import customers_changeable_by, of_visible_customers
from surveys.audience import audience_contacts
from surveys.models import Campaign, ChiAssessment, Response, SurveyKind
from surveys.selectors import Scope, customer_responses


@dataclass(frozen=True)
class ChiScore:
    """A customer's Customer Happiness Index in a campaign: the "yes" of their latest answer to the customer's
    criteria plus the "yes" of the CSM's assessment of the CSM's criteria (0–10). A part not given yet counts 0
    (``customer_part`` / ``csm_part`` is None). ``answered_at`` is when the latest part was given; ``keys``
    holds the values of the paths asked for (for the slices)."""

    campaign_id: int
    customer_id: int
    customer_part: int | None
    csm_part: int | None
    answered_at: datetime
    keys: dict = field(default_factory=dict, compare=False)

    @property
    def score(self) -> int:
        return (self.customer_part or 0) + (self.csm_part or 0)

    @property
    def complete(self) -> bool:
        return self.customer_part is not None and self.csm_part is not None


def chi_assessments_visible_to(user: User) -> QuerySet[ChiAssessment]:
    """The CSM's CHI assessments of the customers the user sees."""
    return of_visible_customers(ChiAssessment, user)


def chi_scores(
    user: User,
    scope: Scope | None = None,
    *,
    campaign_ids: list[int] | None = None,
    keys: tuple[str, ...] = (),
) -> list[ChiScore]:
    """Every customer's combined CHI score in a scope (or in the given campaigns), as the user sees them: one
    per (campaign, customer) with a customer's answer or a CSM's assessment. Two queries whatever the size;
    when several of a customer's contacts answered, the latest answer is the customer's part."""
    responses = customer_responses(user).filter(kind=SurveyKind.CHI)
    assessments = chi_assessments_visible_to(user).filter(campaign__kind=SurveyKind.CHI)
    if scope is not None and scope.campaign is not None:
        responses = responses.filter(campaign=scope.campaign)
        assessments = assessments.filter(campaign=scope.campaign)
    if campaign_ids is not None:
        responses = responses.filter(campaign_id__in=campaign_ids)
        assessments = assessments.filter(campaign_id__in=campaign_ids)
    scores = combine_chi(responses, assessments, keys=keys)
    if scope is not None and scope.since is not None:
        # Over a period: the customers whose score was completed or changed in it, with their whole score
        # (a part given before the period still counts: half a score would read as an unhappy customer).
        scores = [chi for chi in scores if chi.answered_at >= scope.since]
    return scores


def combine_chi(
    responses: QuerySet[Response], assessments: QuerySet[ChiAssessment], *, keys: tuple[str, ...] = ()
) -> list[ChiScore]:
    """One ChiScore per (campaign, customer) from the given customer answers and CSM assessments, in two
    queries; when several of a customer's contacts answered, the latest answer is the customer's part."""
    base = ("campaign_id", "customer_id", "score")
    latest: dict[tuple[int, int], dict] = {}
    for row in responses.order_by("-updated_at", "-pk").values(*base, "updated_at", *keys):
        latest.setdefault((row["campaign_id"], row["customer_id"]), row)
    parts: dict[tuple[int, int], dict] = {
        (row["campaign_id"], row["customer_id"]): row for row in assessments.values(*base, "updated_at", *keys)
    }
    scores = []
    for pair in latest.keys() | parts.keys():
        answer, assessment = latest.get(pair), parts.get(pair)
        given = [r for r in (answer, assessment) if r is not None]
        scores.append(
            ChiScore(
                campaign_id=pair[0],
                customer_id=pair[1],
                customer_part=answer["score"] if answer else None,
                csm_part=assessment["score"] if assessment else None,
                answered_at=max(r["updated_at"] for r in given),
                keys={k: given[0][k] for k in keys},
            )
        )
    return scores


def chi_counts_by(chi: list[ChiScore], *keys: str) -> dict[tuple, dict[int, int]]:
    """Like ``results.counts_by``, for combined CHI scores: {(key values…): {score: n customers}}."""
    grouped: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in chi:
        group = tuple(row.campaign_id if k == "campaign_id" else row.keys[k] for k in keys)
        grouped[group][row.score] += 1
    return {k: dict(v) for k, v in grouped.items()}


# --- The CSM's CHI pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChiCustomerRow:
    """A customer on the CSM's CHI page: both parts of their score."""

    customer: object
    customer_part: int | None
    csm_part: int | None

    @property
    def score(self) -> int:
        return (self.customer_part or 0) + (self.csm_part or 0)


def chi_audience_customers(user: User, campaign: Campaign) -> QuerySet:
    """The customers of a CHI campaign's audience that the user may change (and so assess), by name."""
    in_audience = audience_contacts(campaign).values("customer_id")
    return customers_changeable_by(user).filter(pk__in=in_audience).select_related("owner").order_by("name", "pk")


def chi_customer_rows(user: User, campaign: Campaign) -> list[ChiCustomerRow]:
    """The CSM's CHI page: every customer of the campaign's audience the user may change, with the customer's
    part and the CSM's part of their score. Three queries whatever the size."""
    customers = list(chi_audience_customers(user, campaign))
    scores = {row.customer_id: row for row in chi_scores(user, Scope.of_campaign(campaign))}
    rows = []
    for customer in customers:
        found = scores.get(customer.pk)
        rows.append(
            ChiCustomerRow(
                customer=customer,
                customer_part=found.customer_part if found else None,
                csm_part=found.csm_part if found else None,
            )
        )
    return rows


def chi_assessment_of(user: User, campaign: Campaign, customer) -> ChiAssessment | None:
    return chi_assessments_visible_to(user).filter(campaign=campaign, customer=customer).first()


def chi_customer_part(user: User, campaign: Campaign, customer) -> Response | None:
    """The customer's latest answer to a CHI campaign (their part of the score), if they answered."""
    return (
        customer_responses(user)
        .filter(campaign=campaign, customer=customer)
        .select_related("delivery__contact")
        .order_by("-updated_at", "-pk")
        .first()
    )
