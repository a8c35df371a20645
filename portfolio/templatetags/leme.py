from decimal import Decimal

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.labels import TASK_LINKS, TASK_ORIGINS
from portfolio.models import Stage
from portfolio.services.reviews import review_question_text
from portfolio.validators import format_cnpj

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "BRL") -> str:
    """Integer cents as money in the active language: R$ 1.234,56 / R$ 1,234.56."""
    if cents is None:
        return "—"
    symbol = {"BRL": "R$", "USD": "US$", "EUR": "€"}.get(currency, currency)
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
