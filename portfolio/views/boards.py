"""The team boards: onboarding and UTI."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from portfolio import selectors
from portfolio.views.common import page_context

UTI_PAGE_SIZE = 50


@login_required
@vary_on_headers("HX-Request")
def onboarding_board(request: HttpRequest) -> HttpResponse:
    """The board, a page of customers at a time: ``?after=`` (the last shown one's key) gives the next page;
    asked by htmx (the "Show more" row), only its rows, appended in place of that row."""
    after = selectors.parse_onboarding_key(request.GET.get("after"))
    if request.htmx and after is not None:
        customers, next_after = selectors.onboarding_customers(request.user, after=after)
        context = {"customers": customers, "next_after": next_after, "today": timezone.localdate()}
        return render(request, "portfolio/onboarding.html#rows", context)
    return render(request, "portfolio/onboarding.html", selectors.onboarding_board(request.user, after=after))


@login_required
def uti_board(request: HttpRequest) -> HttpResponse:
    board = selectors.uti_board(request.user, page_number=request.GET.get("page"), per_page=UTI_PAGE_SIZE)
    return render(request, "portfolio/uti_board.html", page_context(board))
