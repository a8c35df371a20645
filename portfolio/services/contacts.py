"""The customer's contacts."""

from accounts.access import ensure_can_write
from accounts.models import User
from core import clock
from core.events import publish
from portfolio import events
from portfolio.models import (
    Contact,
    Customer,
)


def _contact_fields(fields: dict) -> dict:
    fields = dict(fields)
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip().lower()
    if "external_id" in fields:
        fields["external_id"] = fields["external_id"] or None
    return fields


def contact_create(*, customer: Customer, actor: User | None, **fields) -> Contact:
    ensure_can_write(actor)
    contact = Contact(customer=customer, **_contact_fields(fields))
    contact.full_clean()
    contact.save()
    return contact


def contact_update(*, contact: Contact, actor: User | None, **fields) -> Contact:
    """Change a contact. Opting out (``opted_out_at`` set where it was empty) is announced."""
    ensure_can_write(actor)
    opting_out = contact.opted_out_at is None and fields.get("opted_out_at") is not None
    for key, value in _contact_fields(fields).items():
        setattr(contact, key, value)
    contact.full_clean()
    contact.save()
    if opting_out:
        publish(events.ContactOptedOut(customer_id=contact.customer_id, contact_id=contact.pk))
    return contact


def contact_archive(*, contact: Contact, actor: User | None) -> Contact:
    """The contact has left the customer: it leaves the customer's page and the surveys' audiences; its
    timeline entries, answers and deliveries stay. Archiving twice changes nothing."""
    ensure_can_write(actor)
    if contact.archived_at is None:
        contact.archived_at = clock.now()
        contact.save(update_fields=["archived_at"])
    return contact


def contact_unarchive(*, contact: Contact, actor: User | None) -> Contact:
    """The contact is back (archived by mistake, or returned to the customer): on the customer's page and in
    the surveys' audiences again. Un-archiving an active contact changes nothing."""
    ensure_can_write(actor)
    if contact.archived_at is not None:
        contact.archived_at = None
        contact.save(update_fields=["archived_at"])
    return contact
