"""Actions an app above portfolio adds to the portfolio list's bulk bar (start a playbook on the selected
customers), so the list offers them without portfolio importing the app that brings them.

An app registers a :class:`BulkAction` in its ``AppConfig.ready()``. The list calls each action's
``load(user)`` once per page (in a fixed number of queries); ``None`` leaves the action out for that person.
The action's ``template`` is rendered inside the list's selection form with ``action`` (a
:class:`LoadedAction`): it adds its own fields and a submit button with its own ``formaction``, and receives
the ticked customers as ``customers``, or ``all_matching=1`` with the list's ``filters`` (a query string) when
the person selected every customer the filters match. The view behind that URL reads both with
``portfolio.forms.BulkSelectionForm``, which computes the set on the server through the door again.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BulkAction:
    key: str
    template: str
    load: Callable[[Any], Any]  # user → what the template shows, or None
    order: int = 100


@dataclass(frozen=True)
class LoadedAction:
    key: str
    template: str
    data: Any


_actions: dict[str, BulkAction] = {}


def register(action: BulkAction) -> None:
    _actions[action.key] = action


def load_all(user) -> list[LoadedAction]:
    loaded = (
        LoadedAction(key=a.key, template=a.template, data=a.load(user))
        for a in sorted(_actions.values(), key=lambda a: (a.order, a.key))
    )
    return [action for action in loaded if action.data is not None]
