"""The customer's timeline: every entry, and the last touch it may move."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write
from accounts.models import User
from core import clock
from core.events import publish
from portfolio import events
from portfolio.models import (
    HUMAN_TOUCHES,
    Activity,
    Contact,
    Customer,
)


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
    activity = Activity.objects.create(
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
