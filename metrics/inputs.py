"""Reading a month and an amount of money as people type them (the spend form, the API and the CSV import), with
the message to show when they do not parse. Values only: no database, no rules about who."""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from core import bounds
from portfolio.money import to_cents

MONTH_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
MONTH_BR = re.compile(r"^(\d{1,2})/(\d{4})$")


class BadInput(ValueError):
    """A value that does not parse; its message is for the person who typed it."""


def parse_month(text: str) -> date:
    """2026-03 or 03/2026 (and a full date, whose month is taken) → the month's first day."""
    text = (text or "").strip()
    if not text:
        raise BadInput(_("Enter the month."))
    match = MONTH_ISO.match(text)
    year, month = (int(match.group(1)), int(match.group(2))) if match else (None, None)
    if not match and (br := MONTH_BR.match(text)):
        year, month = int(br.group(2)), int(br.group(1))
    if year is None and len(text) == 10:
        try:
            day = date.fromisoformat(text)
            year, month = day.year, day.month
        except ValueError:
            pass
    if year is None or not 1 <= month <= 12:
        raise BadInput(_('"%(value)s" is not a month: use 2026-03 or 03/2026.') % {"value": text[:20]})
    first = date(year, month, 1)
    if not bounds.date_in_range(first):
        raise BadInput(bounds.out_of_range_message())
    return first


def parse_reais(text: str | Decimal | int) -> int:
    """Reais as typed in Brazil (1.234,56), with a dot (1234.56) or as a number → integer cents."""
    if isinstance(text, Decimal | int):
        amount = Decimal(text)
    else:
        cleaned = (text or "").strip().replace("R$", "").replace(" ", "").replace("\u00a0", "")
        if not cleaned:
            raise BadInput(_("Enter the amount."))
        if "," in cleaned:
            cleaned = cleaned.replace(".", "").replace(",", ".")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation as exc:
            raise BadInput(_('"%(value)s" is not an amount of reais.') % {"value": text[:30]}) from exc
    if not amount.is_finite():
        raise BadInput(_("Enter an amount of reais."))
    if amount < 0:
        raise BadInput(_("The amount cannot be negative."))
    if amount * 100 > bounds.MAX_CENTS:
        raise BadInput(_("The amount is too large."))
    return to_cents(amount)
