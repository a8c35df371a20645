"""Words for codes that several apps write: a lower app declares its own, an app above registers the
ones it adds, so the lower app shows them without knowing the app that brought them.

``TASK_ORIGINS``: what created a task (portfolio's journey, surveys' detractor loop, later playbooks).
``ACTIVITY_KINDS``: the kinds of timeline entries beyond the ones portfolio writes itself.
``TASK_LINKS``: for an origin, where a task it created leads (a playbook task → its run).
"""

from collections.abc import Callable
from typing import Any

from django.utils.functional import Promise


class Labels:
    """An ordered set of ``code → label``, filled when the apps are ready."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._labels: dict[str, str | Promise] = {}

    def register(self, code: str, label: str | Promise) -> None:
        self._labels[code] = label

    def label(self, code: str, default: str = "") -> str:
        return str(self._labels.get(code, default))

    def choices(self) -> list[tuple[str, str | Promise]]:
        return list(self._labels.items())

    def __contains__(self, code: str) -> bool:
        return code in self._labels


TASK_ORIGINS = Labels("task origin")
ACTIVITY_KINDS = Labels("timeline entry kind")


class Links:
    """``origin → function(task) → URL or ""``: where an automatic task leads, registered by the app that
    creates it."""

    def __init__(self) -> None:
        self._links: dict[str, Callable[[Any], str]] = {}

    def register(self, code: str, link: Callable[[Any], str]) -> None:
        self._links[code] = link

    def url(self, task: Any) -> str:
        link = self._links.get(getattr(task, "origin", ""))
        return link(task) if link is not None else ""


TASK_LINKS = Links()
