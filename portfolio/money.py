"""Money as Leme stores it: integer cents (of reais, unless a subscription says otherwise)."""

from decimal import Decimal


def to_cents(amount: Decimal) -> int:
    """An amount in reais (as forms and imports read it) in whole cents, half a cent rounding to even."""
    return int((amount * 100).to_integral_value())


def reais(cents: int) -> str:
    """Cents as text the way Brazilians write it, for the timeline (stored text, not localised per reader)."""
    return f"R$ {cents / 100:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
