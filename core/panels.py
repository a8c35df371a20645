"""Panels an app above portfolio adds to the customer page (surveys' answer history, later playbooks or
scores), so the page shows them without portfolio importing the app that brings them.

An app registers a :class:`CustomerPanel` in its ``AppConfig.ready()``. The customer page's selector calls
each panel's ``load(user, customer)`` once, with a customer the user may see, and the page renders the
panel's ``template`` with the loaded ``data``. ``load`` must read in a fixed number of queries, however much
the customer has: the customer page's query count is asserted.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CustomerPanel:
    key: str  # also the panel's HTML id
    template: str  # rendered with ``panel`` (a PanelContent) and the customer page's context
    load: Callable[[Any, Any], Any]  # (user, customer) → what the template shows
    order: int = 100  # lower comes first


@dataclass(frozen=True)
class PanelContent:
    """A registered panel with what it loaded for one customer."""

    key: str
    template: str
    data: Any


_panels: dict[str, CustomerPanel] = {}


def register(panel: CustomerPanel) -> None:
    _panels[panel.key] = panel


def registered() -> list[CustomerPanel]:
    return sorted(_panels.values(), key=lambda p: (p.order, p.key))


def load_all(user, customer) -> list[PanelContent]:
    """Every registered panel, loaded for ``customer`` (already checked to be visible to ``user``)."""
    return [PanelContent(key=p.key, template=p.template, data=p.load(user, customer)) for p in registered()]
