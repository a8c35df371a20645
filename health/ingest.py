"""Checking product-usage events before any is stored: the API and the CSV import read events the same way.

An event is ``event_id`` (the sender's id: sending it again stores nothing), the customer (Leme's ``customer``
id or its ``customer_external_id``), ``user_id`` (the customer's user, any string), ``event`` (its name),
``timestamp`` (ISO 8601 with an offset, within the retention window and at most a day ahead) and optional
``properties`` (a flat JSON object of at most 50 keys and 4 KB). The customer must be one the sender sees
(``accounts.access.sends_usage_for_every_customer``): another team's customer is unknown to them, with the
same message as a customer that does not exist.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from core import bounds, clock
from portfolio.models import Customer
from portfolio.selectors import customers_visible_to

MAX_BATCH = 1000
MAX_PROPERTIES = 50
MAX_PROPERTIES_BYTES = 4096
# Senders' clocks drift and queues hold events back; a timestamp further ahead than this is a wrong date.
MAX_AHEAD = timedelta(days=1)


def oldest_accepted(now: datetime) -> datetime:
    """Events older than the retention window would be deleted by the next clean-up: refused instead."""
    return now - timedelta(days=settings.LEME_USAGE_RETENTION_DAYS)


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.Field):
    """An ISO 8601 date and time that carries its offset (``2026-12-01T14:03:00-03:00`` or ``…Z``): without one
    the moment, and so the day it counts for, would be a guess."""

    default_error_messages = {
        "invalid": _("Enter a date and time in ISO 8601 with its offset, such as 2026-12-01T14:03:00-03:00."),
        "naive": _("Give the time zone offset (such as -03:00 or Z): without it the day is a guess."),
        "too_old": _("Older than %(days)s days: Leme keeps usage events that long only."),
        "ahead": _("More than a day in the future: check the sender's clock."),
    }

    def to_internal_value(self, data) -> datetime:
        if not isinstance(data, str) or len(data) > 40:
            self.fail("invalid")
        try:
            moment = parse_datetime(data.strip())
        except ValueError:
            moment = None
        if moment is None:
            self.fail("invalid")
        if moment.tzinfo is None:
            self.fail("naive")
        try:
            bounds.validate_utc_offset(moment)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        now = clock.now()
        if moment < oldest_accepted(now):
            raise serializers.ValidationError(
                self.error_messages["too_old"] % {"days": settings.LEME_USAGE_RETENTION_DAYS}
            )
        if moment > now + MAX_AHEAD:
            self.fail("ahead")
        return moment

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class UsageEventIn(serializers.Serializer):
    """One usage event as a sender writes it."""

    event_id = serializers.CharField(
        max_length=100, help_text=_("Your id for the event: sending it again stores nothing.")
    )
    customer = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text=_("Leme's id of the customer.")
    )
    customer_external_id = serializers.CharField(
        max_length=100, required=False, help_text=_("Or the customer's external_id (your system's id).")
    )
    user_id = serializers.CharField(
        max_length=200, help_text=_("The customer's user who did it, as your system names them.")
    )
    event = serializers.CharField(max_length=100, help_text=_("What they did, such as login or report_exported."))
    timestamp = TimestampField(help_text=_("When, in ISO 8601 with its offset (2026-12-01T14:03:00-03:00)."))
    properties = serializers.DictField(
        required=False, help_text=_("A flat JSON object: text, numbers, true/false or null; 50 keys, 4 KB at most.")
    )

    def validate_properties(self, value: dict) -> dict:
        if len(value) > MAX_PROPERTIES:
            raise serializers.ValidationError(_("At most %(max)s properties.") % {"max": MAX_PROPERTIES})
        for key, item in value.items():
            if len(key) > 100:
                raise serializers.ValidationError(_("Property names have at most 100 characters."))
            if isinstance(item, dict | list):
                raise serializers.ValidationError(
                    _("%(key)s: properties are flat: text, numbers, true/false or null, not objects or lists.")
                    % {"key": key[:100]}
                )
        if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_PROPERTIES_BYTES:
            raise serializers.ValidationError(_("At most 4 KB of properties."))
        return value

    def validate(self, attrs: dict) -> dict:
        if "customer" not in attrs and not attrs.get("customer_external_id"):
            raise serializers.ValidationError({"customer": [_("Give customer (Leme's id) or customer_external_id.")]})
        return attrs


class UsageBatchIn(serializers.Serializer):
    """The body of ``POST /api/v1/usage-events/``: for the schema; :func:`check_events` reads it."""

    events = UsageEventIn(many=True, help_text=_("Up to 1,000 events; all are stored, or none."))


@dataclass(frozen=True)
class CheckedEvent:
    source_id: str
    customer_id: int
    user_ref: str
    name: str
    occurred_at: datetime
    properties: dict

    @property
    def day(self) -> date:
        return timezone.localdate(self.occurred_at)


@dataclass
class CheckedBatch:
    events: list[CheckedEvent] = field(default_factory=list)
    # By the event's position in the batch: {field: [messages]}.
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _customers(valid: dict[int, dict], *, actor: User | None, every_customer: bool) -> tuple[dict, dict]:
    """Leme ids and external ids the batch names, among the customers the sender may send for."""
    ids = {e["customer"] for e in valid.values() if "customer" in e}
    external = {e["customer_external_id"] for e in valid.values() if e.get("customer_external_id")}
    if not ids and not external:
        return {}, {}
    customers = Customer.objects.all() if every_customer else customers_visible_to(actor)
    rows = customers.filter(Q(pk__in=ids) | Q(external_id__in=external)).values_list("pk", "external_id")
    by_id = {pk: pk for pk, _ext in rows}
    by_external = {ext: pk for pk, ext in rows if ext}
    return by_id, by_external


def _text(value, max_length: int) -> bool:
    """Text DRF's CharField takes as it is: a non-blank ASCII string of at most ``max_length`` characters without
    surrounding spaces or NUL (anything else goes through the field for its exact message or cleaning)."""
    return (
        type(value) is str
        and 0 < len(value) <= max_length
        and value.isascii()
        and "\x00" not in value
        and not value[0].isspace()
        and not value[-1].isspace()
    )


def _plain_event(item: dict, limits: tuple[datetime, datetime], checker: UsageEventIn) -> dict | None:
    """The event as ``UsageEventIn`` would return it, when it is plainly valid; None when anything is unusual
    (a missing or blank field, a number as text, spaces, non-ASCII text, a bad timestamp or properties), which
    the serializer then checks field by field for its messages. About ten times cheaper than DRF's checks,
    which are the most of a batch's time (bench/usage_ingest.py); tests/health/test_usage_api.py proves both
    paths give the same events and errors."""
    event_id, user_id, name = item.get("event_id"), item.get("user_id"), item.get("event")
    if not (_text(event_id, 100) and _text(user_id, 200) and _text(name, 100)):
        return None
    out = {"event_id": event_id, "user_id": user_id, "event": name}
    if "customer" in item:
        customer = item["customer"]
        if type(customer) is not int or not 1 <= customer <= 2**63 - 1:
            return None
        out["customer"] = customer
    if "customer_external_id" in item:
        external = item["customer_external_id"]
        if not _text(external, 100):
            return None
        out["customer_external_id"] = external
    elif "customer" not in out:
        return None
    stamp = item.get("timestamp")
    if type(stamp) is not str or len(stamp) > 40:
        return None
    try:
        moment = parse_datetime(stamp.strip())
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None or abs(moment.utcoffset()) > bounds.MAX_UTC_OFFSET:
        return None
    if not limits[0] <= moment <= limits[1]:
        return None
    out["timestamp"] = moment
    if "properties" in item:
        properties = item["properties"]
        if type(properties) is not dict:
            return None
        try:
            out["properties"] = checker.validate_properties(properties)
        except serializers.ValidationError:
            return None
    return out


def check_events(raw: list, *, actor: User | None, every_customer: bool) -> CheckedBatch:
    """Every event of ``raw`` checked; ``errors`` names each bad event's position and fields. Nothing is written."""
    batch = CheckedBatch()
    valid: dict[int, dict] = {}
    # One serializer for the whole batch: DRF copies a serializer's fields each time one is made (a millisecond
    # an event), and run_validation keeps no state between calls.
    checker = UsageEventIn()
    now = clock.now()
    limits = (oldest_accepted(now), now + MAX_AHEAD)
    for position, item in enumerate(raw):
        if not isinstance(item, dict):
            batch.errors[position] = {"non_field_errors": [str(_("Each event is a JSON object."))]}
            continue
        event = _plain_event(item, limits, checker)
        if event is not None:
            valid[position] = event
            continue
        try:
            valid[position] = checker.run_validation(item)
        except serializers.ValidationError as exc:
            batch.errors[position] = {k: [str(m) for m in v] for k, v in exc.detail.items()}
    by_id, by_external = _customers(valid, actor=actor, every_customer=every_customer)
    for position, event in valid.items():
        errors: dict[str, list[str]] = {}
        customer_id = None
        if "customer" in event:
            customer_id = by_id.get(event["customer"])
            if customer_id is None:
                errors["customer"] = [str(_("No customer of yours has the id %(id)s.") % {"id": event["customer"]})]
        if event.get("customer_external_id"):
            found = by_external.get(event["customer_external_id"])
            if found is None:
                errors["customer_external_id"] = [
                    str(_("No customer of yours has the external_id %(id)s.") % {"id": event["customer_external_id"]})
                ]
            elif customer_id is not None and found != customer_id:
                errors["customer_external_id"] = [str(_("Names another customer than customer does."))]
            customer_id = customer_id or found
        if errors:
            batch.errors[position] = errors
            continue
        batch.events.append(
            CheckedEvent(
                source_id=event["event_id"],
                customer_id=customer_id,
                user_ref=event["user_id"],
                name=event["event"],
                occurred_at=event["timestamp"],
                properties=event.get("properties") or {},
            )
        )
    return batch
