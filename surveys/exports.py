"""The answers as CSV rows, for the results pages' download. eNPS rows carry no identifying column."""

from collections.abc import Iterator

from django.utils import timezone

from accounts.models import User
from surveys.scoring import ENPS
from surveys.selectors import Scope, enps_hidden

CSV_COLUMNS = [
    "answered_at",
    "campaign",
    "kind",
    "score",
    "comment",
    "customer",
    "customer_external_id",
    "contact",
    "contact_email",
    "csm",
    "segment",
    "service_model",
    "plan",
]
ENPS_CSV_COLUMNS = ["answered_month", "campaign", "score", "comment"]


def export_rows(user: User, scope: Scope) -> Iterator[list]:
    """The answers as CSV rows, header first, streamed in chunks. eNPS rows carry no identifying column, only
    the month, and are ordered by score so that their order tells nothing either; nothing under the minimum."""
    if scope.kind == ENPS:
        yield ENPS_CSV_COLUMNS
        if enps_hidden(user, campaign=scope.campaign, since=scope.since):
            return
        rows = (
            scope.responses(user)
            .order_by("score", "comment", "pk")
            .values_list("answered_at", "campaign__name", "score", "comment")
        )
        for answered_at, campaign_name, score, comment in rows.iterator(chunk_size=2000):
            yield [timezone.localtime(answered_at).strftime("%Y-%m"), campaign_name, score, comment]
        return
    yield CSV_COLUMNS
    rows = (
        scope.responses(user)
        .order_by("answered_at", "pk")
        .values_list(
            "answered_at",
            "campaign__name",
            "kind",
            "score",
            "comment",
            "customer__name",
            "customer__external_id",
            "delivery__contact__name",
            "delivery__email",
            # Whom and where the answer counts for, as when it was given (surveys.models._CountedFor).
            "csm__full_name",
            "segment",
            "service_model",
            "plan_tier",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        yield [timezone.localtime(row[0]).isoformat(timespec="seconds"), *("" if v is None else v for v in row[1:])]
