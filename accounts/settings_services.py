"""The record every Settings page keeps: who changed what, when, and what the change affects.

The words are kept in English, Leme's source language, and translated when shown (``{% translate %}`` on the
stored text): a history read in Portuguese or English says the same thing in the reader's language."""

from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_noop

from accounts.models import SettingChange, User

YES, NO = gettext_noop("yes"), gettext_noop("no")


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return YES
    if value is False:
        return NO
    return force_str(value)


def setting_change_record(
    *,
    area: str,
    subject: Any,
    changes: Iterable[tuple[Any, ...]],
    effect: Any = "",
    actor: User | None,
) -> SettingChange | None:
    """Record one change on a Settings page: ``changes`` are ``(label, before, after)`` or ``(label, before,
    after, what it affects)``; those that changed nothing are left out, and nothing is recorded when nothing
    changed. Called by the services that change a setting, inside their transaction, after their own checks."""
    with translation.override("en"):
        rows = [
            {
                "field": force_str(change[0]),
                "before": _text(change[1]),
                "after": _text(change[2]),
                "effect": force_str(change[3]) if len(change) > 3 else "",
            }
            for change in changes
            if _text(change[1]) != _text(change[2])
        ]
        if not rows:
            return None
        return SettingChange.objects.create(
            area=area, subject=force_str(subject), changes=rows, effect=force_str(effect), actor=actor
        )
