"""The range of dates and amounts Leme accepts from outside: forms, the API and imports all check these.

Dates: the years a customer, a subscription, a task or a survey can belong to. Python reads "0001-01-01"
happily; month arithmetic and the MRR ledger (``mrr_recompute --check``) then step to year 0 and crash, and
a typo such as 2062 for 2026 is as likely as a real date that far ahead.

Money: amounts in cents, per billing period. R$ 10 billion is far above any real plan, and far enough below
PostgreSQL's bigint that a customer's MRR (the sum of its subscriptions) cannot overflow it; above it is bad
input, not a database error. NaN and infinities are not amounts.
"""

from datetime import date, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

DATE_MIN = date(1990, 1, 1)
DATE_MAX = date(2100, 12, 31)
MAX_CENTS = 10**12
# ISO 8601 lets an offset reach ±23:59; PostgreSQL takes up to ±15:59 (and real zones span -12:00..+14:00).
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


def date_in_range(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return DATE_MIN <= day <= DATE_MAX


def out_of_range_message() -> str:
    return _("Enter a date between %(min)s and %(max)s.") % {"min": DATE_MIN.year, "max": DATE_MAX.year}


def validate_date_in_range(value: date | datetime | None) -> None:
    if value is not None and not date_in_range(value):
        raise ValidationError(out_of_range_message(), code="date_out_of_range")


def validate_utc_offset(value: datetime | None) -> None:
    offset = value.utcoffset() if isinstance(value, datetime) else None
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError(_("Enter a time zone offset between -15:59 and +15:59."), code="offset_out_of_range")


# --- Form fields --------------------------------------------------------------------------------------------


class DateField(forms.DateField):
    """A form's date, within DATE_MIN..DATE_MAX."""

    default_validators = [validate_date_in_range]


class DateTimeField(forms.DateTimeField):
    """A form's date and time, its day within DATE_MIN..DATE_MAX."""

    default_validators = [validate_date_in_range, validate_utc_offset]


# --- API fields ---------------------------------------------------------------------------------------------


def _api_date_in_range(value: date | datetime | None) -> None:
    if value is not None and not date_in_range(value):
        raise serializers.ValidationError(out_of_range_message(), code="date_out_of_range")


def _api_utc_offset(value: datetime | None) -> None:
    try:
        validate_utc_offset(value)
    except ValidationError as exc:
        raise serializers.ValidationError(exc.messages, code="offset_out_of_range") from exc


class ApiDateField(serializers.DateField):
    """An API date within DATE_MIN..DATE_MAX."""

    def __init__(self, **kwargs) -> None:
        kwargs["validators"] = [*kwargs.get("validators", []), _api_date_in_range]
        super().__init__(**kwargs)


class ApiDateTimeField(serializers.DateTimeField):
    """An API date and time, its day within DATE_MIN..DATE_MAX."""

    def __init__(self, **kwargs) -> None:
        kwargs["validators"] = [*kwargs.get("validators", []), _api_date_in_range, _api_utc_offset]
        super().__init__(**kwargs)
