"""Panels an app above portfolio adds to the customer page (surveys' answer history, later playbooks or
scores) or to My day (figures, customers gone red, renewals ahead), so the page shows them without
portfolio importing the app that brings them.

An app registers a :class:`CustomerPanel` in its ``AppConfig.ready()``. The customer page's selector calls
each panel's ``load(user, customer)`` once, with a customer the user may see, and the page renders the
panel's ``template`` with the loaded ``data``. ``load`` must read in a fixed number of queries, however much
the customer has: the customer page's query count is asserted.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


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
    place: str = "end"  # My day: "stats" (a tile in the summary row at the top) or "end" (a card below the lists)


_panels: dict[str, CustomerPanel] = {}


def register(panel: CustomerPanel) -> None:
    _panels[panel.key] = panel


def registered() -> list[CustomerPanel]:
    return sorted(_panels.values(), key=lambda p: (p.order, p.key))


def load_all(user, customer) -> list[PanelContent]:
    """Every registered panel, loaded for ``customer`` (already checked to be visible to ``user``)."""
    return [PanelContent(key=p.key, template=p.template, data=p.load(user, customer)) for p in registered()]


# --- My day ---------------------------------------------------------------------------------------------
# The same idea for the person's day: an app registers a DayPanel in its ``AppConfig.ready()``; My day calls
# each panel's ``load(user, today)`` and renders its template with ``panel`` (a PanelContent). ``load``
# applies the door itself (the person's customers only), reads in a fixed number of queries, and returns
# ``None`` when it has nothing for this person (the panel is then left out).


@dataclass(frozen=True)
class DayPanel:
    key: str  # also the panel's HTML id
    template: str
    load: Callable[[Any, Any], Any]  # (user, today) → what the template shows, or None
    order: int = 100  # lower comes first; My day's own lists come first
    # The morning digest's HTML and text parts of the panel (templates under an email/ folder, absolute links
    # from ``site_url``); a panel without them is left out of the digest.
    email_templates: tuple[str, str] | None = None
    # How many things the loaded data tells of (the digest says nothing when nothing has anything); len().
    count: Callable[[Any], int] = len
    # Where My day shows it: "end", a card below its own lists; "stats", tiles in the summary row at the top
    # (the template renders one or more ``.stat`` tiles).
    place: str = "end"
    # A card below the lists that My day asks for once the page is shown: the URL name of a view that answers the
    # card alone for htmx (nothing when ``load`` has nothing) and a page of its own otherwise, and the card's
    # title for the placeholder (which links to that page without JavaScript). The page's first answer then
    # never waits for ``load``; the morning digest still calls it.
    url_name: str = ""
    title: str = ""


@dataclass(frozen=True)
class DeferredPanel:
    """What My day's placeholder of a panel loaded after the page shows: where from, and its title."""

    url: str
    title: str


_day_panels: dict[str, DayPanel] = {}


def register_day(panel: DayPanel) -> None:
    _day_panels[panel.key] = panel


def registered_day() -> list[DayPanel]:
    return sorted(_day_panels.values(), key=lambda p: (p.order, p.key))


DEFERRED_DAY_PANEL = "_day_panel_deferred.html"


def load_day(user, today, *, defer: bool = False) -> list[PanelContent]:
    """Every registered My day panel that has something for ``user`` on ``today``. ``defer`` (the page): a panel
    with a ``url_name`` is not loaded but placed, its placeholder's template and a :class:`DeferredPanel` given
    instead (it may turn out to have nothing: its view then answers nothing, and the placeholder goes)."""

    def content(panel: DayPanel) -> PanelContent:
        if defer and panel.url_name:
            deferred = DeferredPanel(url=reverse(panel.url_name), title=str(panel.title))
            return PanelContent(key=panel.key, template=DEFERRED_DAY_PANEL, data=deferred, place=panel.place)
        return PanelContent(key=panel.key, template=panel.template, data=panel.load(user, today), place=panel.place)

    loaded = (content(panel) for panel in registered_day())
    return [panel for panel in loaded if panel.data is not None]
