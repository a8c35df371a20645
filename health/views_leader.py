"""The health pages for leaders and admins: the overview, the customers behind its counts, the profile editor
and the backtest. Thin: parse, call a selector or service, render."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_read_health_backtest
from accounts.forms import apply_service_errors
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from health import backtest as health_backtest
from health import selectors_leader as selectors
from health.forms_leader import HealthCustomersForm, ProfileVersionForm
from health.profiles import profile_version_create


def _labels() -> dict[str, str]:
    # Evaluated per request, in the person's language.
    return {"red": _("Red"), "yellow": _("Yellow"), "green": _("Green"), "none": _("No score")}


# --- The trend chart, drawn on the server ------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    band: str
    y: float
    height: float
    count: int


@dataclass(frozen=True)
class Bar:
    x: float
    label_x: float
    day: object
    total: int
    segments: list[Segment]


BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 28, 14, 100


def trend_bars(trend: list[selectors.TrendPoint]) -> dict:
    """Each week's bands as a bar of 100 % of the customers scored that day, stacked red (bottom) to none."""
    bars = []
    for i, point in enumerate(trend):
        x = BAR_GAP / 2 + i * (BAR_WIDTH + BAR_GAP)
        y = float(CHART_HEIGHT)
        segments = []
        for band in selectors.BANDS:
            count = point.counts.get(band, 0)
            height = CHART_HEIGHT * count / point.total if point.total else 0
            y -= height
            if count:
                segments.append(Segment(band, round(y, 2), round(height, 2), count))
        bars.append(Bar(x=x, label_x=x + BAR_WIDTH / 2, day=point.day, total=point.total, segments=segments))
    return {"bars": bars, "width": len(trend) * (BAR_WIDTH + BAR_GAP), "height": CHART_HEIGHT, "bar_width": BAR_WIDTH}


# --- Pages -------------------------------------------------------------------------------------------------


def _customers_query(band: str, owner: str = "") -> str:
    query = QueryDict(mutable=True)
    if band:
        query["band"] = band
    if owner:
        query["owner"] = owner
    return query.urlencode()


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The team's health today, its last 90 days, per CSM, and the overrides in force."""
    data = selectors.health_overview(request.user)
    labels = _labels()
    context = {
        "overview": data,
        "bands": [(band, labels[band]) for band in selectors.BANDS],
        "totals": [(band, labels[band], data.totals[band], _customers_query(band)) for band in selectors.BANDS],
        "csm_rows": [
            {
                "csm": row,
                "cells": [
                    (band, labels[band], row.bands[band], _customers_query(band, row.owner_param))
                    for band in selectors.BANDS
                ],
                "all_query": _customers_query("", row.owner_param),
            }
            for row in data.csms
        ],
        "chart": trend_bars(data.trend),
        "band_labels": labels,
    }
    return render(request, "health/overview.html", context)


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def customers(request: HttpRequest) -> HttpResponse:
    """The customers behind one count of the overview (a band, a CSM, or both), within the person's door."""
    filters = selectors.HealthCustomerFilters.read(request.GET)
    data = selectors.health_customers(request.user, filters, page_number=request.GET.get("page"))
    form = HealthCustomersForm(
        initial={"band": filters.band, "owner": filters.owner}, owners=data.owners, auto_id="id_%s"
    )
    owner_name = ""
    if filters.owner == selectors.NO_SCORE:
        owner_name = _("No CSM")
    elif filters.owner:
        owner_name = dict(data.owners).get(int(filters.owner), "")
    context = {
        "data": data,
        "form": form,
        "band_label": _labels().get(filters.band, ""),
        "owner_name": owner_name,
        "here": _customers_query(filters.band, filters.owner),
    }
    template = "health/customers.html#results" if wants_fragment(request) else "health/customers.html"
    return render(request, template, context)


@login_required
def profiles(request: HttpRequest) -> HttpResponse:
    """Every health profile and its current rules; admins open one to change it."""
    return render(request, "health/profiles.html", {"profiles": selectors.health_profiles()})


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def profile(request: HttpRequest, profile_pk: int) -> HttpResponse:
    """One profile: its current rules (a form for admins), and its versions with what each changed."""
    page = selectors.health_profile_page(request.user, profile_pk)
    if request.method == "POST" and not page.can_edit:
        raise PermissionDenied(_("Only admins change the health score's rules."))
    form = ProfileVersionForm(
        request.POST if request.method == "POST" else None,
        measures=page.current.measures,
        initial=ProfileVersionForm.initial_from(page.current),
    )
    if request.method == "POST" and form.is_valid():
        try:
            version = profile_version_create(
                profile=page.profile,
                measures=form.measures(),
                red_max=form.cleaned_data["red_max"],
                yellow_max=form.cleaned_data["yellow_max"],
                key_events=form.cleaned_data["key_events"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Version %(number)s saved. It applies from the next nightly run.") % {"number": version.number},
            )
            url = reverse("health:profile", kwargs={"profile_pk": profile_pk})
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    context = {"page": page, "form": form, "rows": form.rows()}
    template = "health/profile.html#editor" if wants_fragment(request) else "health/profile.html"
    return render(request, template, context, status=422 if form.errors else 200)


@login_required
def backtest(request: HttpRequest) -> HttpResponse:
    """Does red predict churn? For leaders and admins, over the customers they see."""
    if not can_read_health_backtest(request.user):
        raise PermissionDenied(_("The backtest is for leaders and admins."))
    result = health_backtest.backtest_for(request.user)
    context = {
        "result": result,
        "bands": [(band, _labels()[band], result.bands.get(band)) for band in health_backtest.BANDS],
        "min_months": health_backtest.MIN_MONTHS,
        "min_churners": health_backtest.MIN_CHURNERS,
        "horizon": health_backtest.HORIZON_DAYS,
        "lookback": health_backtest.LOOKBACK_DAYS,
    }
    return render(request, "health/backtest.html", context)
