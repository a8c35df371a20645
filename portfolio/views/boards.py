"""The team boards: onboarding and UTI."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portfolio import selectors
from portfolio.views.common import page_context

UTI_PAGE_SIZE = 50


@login_required
def onboarding_board(request: HttpRequest) -> HttpResponse:
    return render(request, "portfolio/onboarding.html", selectors.onboarding_board(request.user))


@login_required
def uti_board(request: HttpRequest) -> HttpResponse:
    board = selectors.uti_board(request.user, page_number=request.GET.get("page"), per_page=UTI_PAGE_SIZE)
    return render(request, "portfolio/uti_board.html", page_context(board))
