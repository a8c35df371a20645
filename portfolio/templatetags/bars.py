"""Bar lengths for the Content-Security-Policy: a page may not set ``style="--size: 42%"``, so a length from
the data becomes a class (``size-42``, ``start-10``, ``at-75``), one per whole percent, defined in
``static/css/leme.css``."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def step(value) -> int:
    """A percentage as the whole number from 0 to 100 that the bar classes know (half up; nothing → 0)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return 0
    if not number.is_finite():
        return 0
    return max(0, min(100, int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))))
