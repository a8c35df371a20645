from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.core.signals import setting_changed
from django.utils import formats, timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from core.labels import TASK_LINKS, TASK_ORIGINS
from portfolio.models import Stage
from portfolio.services.reviews import review_question_text
from portfolio.validators import format_cnpj

register = template.Library()


SYMBOLS = {"BRL": "R$", "USD": "US$", "EUR": "€"}

# The active language's separators, read from Django's formats once per language: a page formats thousands of
# numbers, and ``formats.number_format`` looks them up (and checks the settings) on every call.
_separators: dict[str | None, tuple[str, str] | None] = {}


def _separators_of_language() -> tuple[str, str] | None:
    """(decimal separator, thousand separator) for the active language, or None when its grouping is not the
    plain groups of three that Python's ``,`` format gives (then Django formats the number itself)."""
    language = get_language()
    try:
        return _separators[language]
    except KeyError:
        pass
    grouping = formats.get_format("NUMBER_GROUPING")
    plain = grouping == 3 or grouping == (3, 0)
    found = (formats.get_format("DECIMAL_SEPARATOR"), formats.get_format("THOUSAND_SEPARATOR")) if plain else None
    _separators[language] = found
    return found


def _forget_separators(**kwargs) -> None:
    _separators.clear()


setting_changed.connect(_forget_separators)


def number_text(value, places: int) -> str:
    """``value`` rounded half up to ``places`` decimals, grouped by thousands, in the active language
    (what ``formats.number_format(..., use_l10n=True, force_grouping=True)`` writes, without its per-call costs)."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    separators = _separators_of_language()
    if separators is None:
        return formats.number_format(rounded, places, use_l10n=True, force_grouping=True)
    decimal_separator, thousand_separator = separators
    text = f"{rounded:,.{places}f}"
    if places:
        whole, fraction = text.split(".")
        return f"{whole.replace(',', thousand_separator)}{decimal_separator}{fraction}"
    return text.replace(",", thousand_separator)


@register.filter
def money(cents: int | None, currency: str = "BRL") -> str:
    """Integer cents as money in the active language: R$ 1.234,56 / R$ 1,234.56."""
    if cents is None:
        return "—"
    symbol = SYMBOLS.get(currency, currency)
    if type(cents) is int:
        # The common case, thousands of times a page: whole and cents apart, no Decimal.
        separators = _separators_of_language()
        if separators is not None:
            decimal_separator, thousand_separator = separators
            whole, fraction = divmod(abs(cents), 100)
            sign = "-" if cents < 0 else ""
            grouped = f"{whole:,}".replace(",", thousand_separator)
            return f"{symbol}\u00a0{sign}{grouped}{decimal_separator}{fraction:02d}"
    value = formats.number_format(Decimal(cents) / 100, 2, use_l10n=True, force_grouping=True)
    return f"{symbol}\u00a0{value}"


@register.filter
def days_until(day) -> int | None:
    if day is None:
        return None
    return (day - timezone.localdate()).days


@register.filter
def days_since(moment) -> int | None:
    if moment is None:
        return None
    if hasattr(moment, "date"):
        moment = timezone.localtime(moment).date()
    return (timezone.localdate() - moment).days


@register.filter
def days_ago(days: int | None) -> str:
    """How long ago, from a number of days (``days_since``): "today", "1 day ago", "3 days ago"."""
    if days is None:
        return ""
    if days <= 0:
        return _("today")
    return ngettext("%(days)s day ago", "%(days)s days ago", days) % {"days": days}


@register.filter
def in_days(days: int | None) -> str:
    """How soon, from a number of days (``days_until``): "today", "in 1 day", "in 3 days"."""
    if days is None:
        return ""
    if days <= 0:
        return _("today")
    return ngettext("in %(days)s day", "in %(days)s days", days) % {"days": days}


STAGE_COLOURS = {"onboarding": "brand", "ongoing": "green", "uti": "yellow", "churned": "red"}


@register.filter
def stage_colour(stage: str) -> str:
    return STAGE_COLOURS.get(stage, "")


@register.filter
def stage_label(stage: str) -> str:
    """A stage's name in the reader's words, from its stored value (an annotation, a timeline entry's data)."""
    return str(Stage(stage).label) if stage in Stage.values else stage


@register.filter
def cnpj(value: str) -> str:
    return format_cnpj(value) if value else ""


@register.filter
def task_origin(origin: str) -> str:
    """What created a task, in the reader's words (each app registers its own); manual tasks say nothing."""
    return TASK_ORIGINS.label(origin) if origin != "manual" else ""


@register.filter
def task_origin_url(task) -> str:
    """Where an automatic task leads (a playbook's task → its run), or "" (the app that created it says)."""
    return TASK_LINKS.url(task)


@register.filter
def review_question(answer: dict) -> str:
    """A stored success-review answer's question, in the reader's language."""
    return review_question_text(answer)
