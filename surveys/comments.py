"""The answers' comments, the "why" behind the scores: a page of them filtered by band, segment and CSM (the
ones the answer counts for: when it was given) or the detractors still waiting for a call, commented or not,
and the CSMs the filter offers. eNPS comments carry only the score, the text and the month, and none is shown
under the minimum number of answers."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models.functions import TruncMonth

from accounts.models import User
from surveys.models import Response
from surveys.results import Results
from surveys.scoring import ENPS, band_colour, bands_for, detractor_q
from surveys.selectors import ENPS_ORDER, Scope, enps_hidden


@dataclass(frozen=True)
class CommentFilters:
    band: str = ""
    segment: str = ""
    owner: int | None = None
    # The detractors still waiting for a call (their loop open), with or without a comment: what the
    # results' "waiting for a call" counts.
    waiting: bool = False


@dataclass(frozen=True)
class Comment:
    """An answer's "why". For eNPS only the score, the text and the month: nothing that names anyone."""

    pk: int
    score: int
    text: str
    answered_at: datetime
    colour: str
    campaign_name: str = ""
    customer_id: int | None = None
    customer_name: str = ""
    contact_name: str = ""
    owner_name: str = ""
    anonymous: bool = False


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]
    page: int
    has_next: bool
    hidden: bool = False


def comments(user: User, scope: Scope, filters: CommentFilters, *, page: int = 1, per_page: int = 20) -> CommentPage:
    """Answers with a comment, newest first, filtered by score band, segment and CSM. A page is one query
    (one row more than shown tells whether there is a next page)."""
    if scope.kind == ENPS and enps_hidden(user, campaign=scope.campaign, since=scope.since):
        return CommentPage(comments=[], page=1, has_next=False, hidden=True)
    bands = bands_for(scope.kind, scope.scale_top)
    if filters.waiting and scope.kind != ENPS:
        qs = scope.responses(user).filter(detractor_q(), loop_closed_at__isnull=True)
    else:
        qs = scope.responses(user).exclude(comment="")
    band = next((b for b in bands if b.key == filters.band), None)
    if band is not None:
        qs = qs.filter(score__gte=band.low, score__lte=band.high)
    page = max(page, 1)
    start = (page - 1) * per_page
    if scope.kind == ENPS:
        rows = list(
            # By month, score and a random stable key: the order tells nothing about when each came in.
            qs.annotate(answered_month=TruncMonth("answered_at"))
            .order_by(*ENPS_ORDER)
            .values("pk", "score", "comment", "answered_at")[start : start + per_page + 1]
        )
        items = [
            Comment(
                pk=r["pk"],
                score=r["score"],
                text=r["comment"],
                answered_at=r["answered_at"],
                colour=band_colour(bands, r["score"]),
                anonymous=True,
            )
            for r in rows
        ]
    else:
        if filters.segment:
            qs = qs.filter(segment=filters.segment)
        if filters.owner:
            qs = qs.filter(csm_id=filters.owner)
        # The page's rows are picked by their keys alone, then read whole: sorting every commented answer in
        # scope with its text and joins spilled to disk (tens of milliseconds for a leader). Still one query.
        newest = ("-answered_at", "-pk")
        if scope.campaign is None:  # an answer's kind is its campaign's: this lets the newest be read off an index
            qs = qs.filter(kind=scope.kind)
        picked = qs.order_by(*newest).values("pk")[start : start + per_page + 1]
        found = list(
            Response.objects.filter(pk__in=picked)
            .select_related("campaign", "customer", "csm", "delivery__contact")
            .order_by(*newest)
        )
        items = [
            Comment(
                pk=r.pk,
                score=r.score,
                text=r.comment,
                answered_at=r.answered_at,
                colour=band_colour(bands, r.score),
                campaign_name=r.campaign.name,
                customer_id=r.customer_id,
                customer_name=r.customer.name if r.customer else "",
                contact_name=r.delivery.contact.name if r.delivery.contact else "",
                owner_name=r.csm.full_name if r.csm else "",
            )
            for r in found
        ]
    return CommentPage(comments=items[:per_page], page=page, has_next=len(items) > per_page)


def comment_owners(user: User, scope: Scope, results: Results | None = None) -> list[tuple[int, str]]:
    """The CSMs whose customers answered, (id, name) by name, for the comments filter: read off the results'
    "by CSM" slice when the page has it, else one query."""
    csm_slice = next((s for s in results.slices if s.key == "csm"), None) if results is not None else None
    if csm_slice is not None:
        owners = [(row.key, row.label) for row in csm_slice.rows if row.key is not None and row.summary.count]
        return sorted(owners, key=lambda owner: owner[1])
    owner_ids = scope.responses(user).exclude(csm__isnull=True).values("csm_id")
    return list(User.objects.filter(pk__in=owner_ids).order_by("full_name").values_list("pk", "full_name"))
