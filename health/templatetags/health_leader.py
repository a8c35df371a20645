"""Small formatting filters for the health pages: exact fractions shown rounded, in the person's language."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django import template
from django.utils import formats

register = template.Library()


def _rounded(value: Fraction | float, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else Decimal(value)
    return formats.number_format(exact.quantize(quantum, rounding=ROUND_HALF_UP), places, use_l10n=True)


@register.filter
def get(mapping, key):
    """``mapping[key]`` in a template, or None."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def pct(value) -> str:
    """A rate as a percentage with one decimal ("12,5 %" in Portuguese); "—" when undefined."""
    if value is None:
        return "—"
    return f"{_rounded(Fraction(value) * 100, 1)}\u00a0%"


@register.filter
def decimals(value, places: int = 2) -> str:
    """A number with ``places`` decimals, rounded half up; "—" when undefined."""
    if value is None:
        return "—"
    return _rounded(Fraction(value), int(places))
