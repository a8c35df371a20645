"""Renewals ahead: the page (sortable, by window and CSM, the MRR at stake summed) and its CSV."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_headers

from core import clock
from core.csvfiles import csv_response
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from portfolio import selectors
from portfolio.forms import RenewalFilterForm
from portfolio.views.common import page_context

PAGE_SIZE = 50
TEMPLATE = "portfolio/renewals.html"


def _filters(request: HttpRequest) -> tuple[RenewalFilterForm, selectors.RenewalFilters, list]:
    owners = selectors.renewal_owners(request.user)
    form = RenewalFilterForm(request.GET or None, owners=owners)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        return form, selectors.RenewalFilters(**data), owners
    return form, selectors.RenewalFilters(), owners


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def renewals(request: HttpRequest) -> HttpResponse:
    form, filters, owners = _filters(request)
    page = selectors.renewals_page(
        request.user, filters, page_number=request.GET.get("page"), per_page=PAGE_SIZE, owners=owners
    )
    query = request.GET.copy()
    query.pop("page", None)
    nosort = query.copy()
    nosort.pop("sort", None)
    context = page_context(page, form=form, query=query.urlencode(), query_nosort=nosort.urlencode())
    return render(request, f"{TEMPLATE}#results" if wants_fragment(request) else TEMPLATE, context)


def _reais(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


@login_required
def renewals_export(request: HttpRequest) -> HttpResponse:
    """The renewals the page's filters select, every one (not a page), in the page's order."""
    _form, filters, _owners = _filters(request)
    rows = selectors.renewals_list(request.user, filters)
    header = [
        _("Customer"),
        _("CNPJ"),
        _("CSM"),
        _("Stage"),
        _("Renewal date"),
        _("MRR"),
        _("Currency"),
        _("Last touch"),
        _("Churn request open"),
    ]

    def lines():
        yield header
        for c in rows.iterator(chunk_size=500):
            yield [
                c.name,
                c.cnpj,
                c.owner.full_name if c.owner else "",
                c.get_stage_display(),
                c.renewal_date.isoformat(),
                _reais(c.mrr_cents),
                c.currency,
                formats.date_format(c.last_touch_at, "Y-m-d") if c.last_touch_at else "",
                _("yes") if c.open_churn else _("no"),
            ]

    return csv_response(lines(), f"renewals-{filters.window}d-{clock.today().isoformat()}.csv")
