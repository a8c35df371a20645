from decimal import Decimal

from django import template
from django.utils.html import format_html

from metrics.figures import Figure
from portfolio.templatetags.leme import money, number_text

register = template.Library()


def _number(value, places: int) -> str:
    # Rounded half up (16.66… % is 16.7 %), where Django's number_format would cut the extra decimals off.
    return number_text(value, places)


def _text(figure: Figure) -> str:
    value = figure.value
    if figure.unit == "money":
        return money(value)
    if figure.unit == "rate":
        return _number(Decimal(value) * 100, 1) + "\u00a0%"
    if figure.unit == "ratio":
        return _number(value, 2)
    if figure.unit in ("months", "days"):
        return _number(value, 1)
    return _number(value, 0)


@register.simple_tag
def figure(fig: Figure | None):
    """A figure as text; an undefined one as "—" whose tooltip (and screen-reader text) says why."""
    if fig is None:
        return "—"
    if fig.value is None:
        return format_html(
            '<span class="undefined" title="{}" tabindex="0">—<span class="visually-hidden"> {}</span></span>',
            fig.why,
            fig.why,
        )
    return _text(fig)


@register.simple_tag
def percent(value):
    """A share (0..1) as a percentage with one decimal; "—" when undefined."""
    if value is None:
        return "—"
    return _number(Decimal(value) * 100, 1) + "\u00a0%"
