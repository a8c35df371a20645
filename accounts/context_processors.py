from django.http import HttpRequest

from accounts.navigation import items_for


def navigation(request: HttpRequest) -> dict:
    """The shell's navigation entries for the acting user, and which one is current."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_current": None}
    items = items_for(user)
    matching = [i for i in items if request.path == i["url"] or (i["url"] != "/" and request.path.startswith(i["url"]))]
    current = max(matching, key=lambda i: len(i["url"]), default=None)
    return {"nav_items": items, "nav_current": current["key"] if current else None}
