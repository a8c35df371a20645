"""The customer's timeline: every entry, and the last touch it may move."""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write
from accounts.models import User
from core import clock
from core.events import publish
from core.prepared import PreparedInsert
from portfolio import events
from portfolio.models import (
    HUMAN_TOUCHES,
    Activity,
    Contact,
    Customer,
)

# Every timeline entry is written by one INSERT whose SQL is built once per connection (an answer to a survey writes
# one per answer: building the statement cost Django more than PostgreSQL took to run it).
_ACTIVITY_INSERT = PreparedInsert(Activity)


def activity_log(
    *,
    customer: Customer,
    kind: str,
    title: str,
    body: str = "",
    author: User | None = None,
    happened_at=None,
    data: dict | None = None,
    external_id: str | None = None,
    contact: Contact | None = None,
) -> Activity:
    """Add an entry to the customer's timeline. A call, meeting or email also counts as the last touch;
    ``contact`` says whom it was with (one of the customer's contacts).
    With an ``external_id`` (an entry sent by another system) it is idempotent."""
    ensure_can_write(author)
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": _("Choose one of this customer's contacts.")})
    if external_id:
        existing = Activity.objects.filter(external_id=external_id).first()
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise ValidationError({"external_id": _("Another timeline entry already uses this external id.")})
            return existing
    happened_at = happened_at or clock.now()
    activity = _ACTIVITY_INSERT.save(
        Activity(
            customer=customer,
            kind=kind,
            title=title[:200],
            body=body,
            author=author,
            contact=contact,
            happened_at=happened_at,
            data=data or {},
            external_id=external_id,
        )
    )
    if kind in HUMAN_TOUCHES:
        if customer.last_touch_at is None or happened_at > customer.last_touch_at:
            customer.last_touch_at = happened_at
            Customer.objects.filter(pk=customer.pk).update(last_touch_at=happened_at)
        publish(
            events.TouchLogged(
                customer_id=customer.pk,
                activity_id=activity.pk,
                author_id=author.pk if author else None,
                contact_id=contact.pk if contact else None,
            )
        )
    return activity


@dataclass(frozen=True)
class TimelineEntry:
    """A timeline entry a job writes (never a human touch): ``external_id`` makes writing it twice a no-op."""

    customer_id: int
    kind: str
    title: str
    external_id: str
    body: str = ""
    data: dict = field(default_factory=dict)
    happened_at: datetime | None = None


def activities_log_many(entries: list[TimelineEntry]) -> set[str]:
    """Write a job's timeline entries in bulk (a nightly run's band changes), each once: entries whose
    ``external_id`` is already on a timeline are skipped. Returns the external ids written now, so the job
    announces each thing once. Two queries and the inserts, whatever the number; call inside the job's
    transaction (a second run waits for the first's lock before it reads)."""
    wanted = {entry.external_id: entry for entry in entries}
    existing = set(Activity.objects.filter(external_id__in=list(wanted)).values_list("external_id", flat=True))
    now = clock.now()
    new = [entry for key, entry in wanted.items() if key not in existing]
    Activity.objects.bulk_create(
        [
            Activity(
                customer_id=entry.customer_id,
                kind=entry.kind,
                title=entry.title[:200],
                body=entry.body,
                data=entry.data,
                external_id=entry.external_id,
                happened_at=entry.happened_at or now,
            )
            for entry in new
        ],
        batch_size=1000,
    )
    return {entry.external_id for entry in new}
