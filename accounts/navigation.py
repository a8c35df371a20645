"""The navigation shown in the page shell. Each app registers its entries when it is ready, so an entry
appears when its feature lands and ``accounts`` needs to know nothing about the apps above it."""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    order: int
    # Empty means every role.
    roles: frozenset[str] = field(default_factory=frozenset)

    def visible_to(self, user) -> bool:
        if not self.roles:
            return True
        return user.is_superuser or user.role in self.roles


_items: dict[str, NavItem] = {}


def register(*items: NavItem) -> None:
    for item in items:
        _items[item.key] = item


def items_for(user) -> list[dict]:
    entries = []
    for item in sorted(_items.values(), key=lambda i: i.order):
        if not item.visible_to(user):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        entries.append({"key": item.key, "label": item.label, "url": url})
    return entries
