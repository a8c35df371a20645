"""Search from anywhere: the box in the top bar (htmx, as you type) and the results page (a plain GET form)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from core.htmx import FRAGMENT_HEADERS, wants_fragment
from portfolio import selectors


@login_required
@require_GET
@vary_on_headers(*FRAGMENT_HEADERS)
def search(request: HttpRequest) -> HttpResponse:
    """As you type in the top bar, htmx asks for the suggestions (a few of each kind); the form's submit, a
    "see all" link or a visit without JavaScript gets the results page."""
    if wants_fragment(request):
        results = selectors.search(request.user, request.GET.get("q"))
        return render(request, "portfolio/search.html#suggestions", {"results": results})
    results = selectors.search_page(
        request.user, request.GET.get("q"), kind=request.GET.get("kind", ""), page_number=request.GET.get("page")
    )
    return render(request, "portfolio/search.html", {"results": results, "kinds": selectors.SEARCH_KINDS})
