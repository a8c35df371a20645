"""When a view answers htmx with a fragment of its page, and when with the whole page."""

from django.http import HttpRequest


def wants_fragment(request: HttpRequest) -> bool:
    """True when htmx asked for a part of the page to swap in.

    A history restore (the person went back and htmx no longer holds a copy of that step) also says
    ``HX-Request``, but htmx swaps the answer in for the whole ``<body>``: it needs the whole page, with its
    navigation, or the person is left with a bare fragment.
    """
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


# What a view that answers both ways varies on (``@vary_on_headers(*FRAGMENT_HEADERS)``): a cached fragment
# must never answer a history restore.
FRAGMENT_HEADERS = ("HX-Request", "HX-History-Restore-Request")
