"""The bell in the top bar: what happened to the person's customers, marked read once shown."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from core.htmx import FRAGMENT_HEADERS, wants_fragment
from portfolio import selectors, services


@login_required
@require_GET
@vary_on_headers(*FRAGMENT_HEADERS)
def notifications(request: HttpRequest) -> HttpResponse:
    """The bell's list: its dropdown (htmx) or, without JavaScript or from "see all", a page. Showing the
    notices is seeing them: those shown are marked read (they keep their "new" mark in this answer) and the
    bell's count follows."""
    shown = list(selectors.notifications_of(request.user)[: selectors.NOTIFICATIONS_SHOWN])
    unread = {n.pk for n in shown if n.read_at is None}
    services.notifications_mark_read(user=request.user, notifications=shown)
    context = {"notifications": shown, "unread": unread}
    if wants_fragment(request):
        return render(request, "portfolio/notifications.html#bell-panel", context)
    return render(request, "portfolio/notifications.html", context)
