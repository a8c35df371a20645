from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_import, can_override_health
from accounts.forms import apply_service_errors
from core import clock
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from core.panels import PanelContent
from health import services
from health.forms import HealthOverrideForm, UsageImportForm
from health.imports import OPTIONAL, REQUIRED, usage_import_run
from health.panels import customer_panel, day_panel
from health.selectors import overrides_in_force
from portfolio.import_flow import import_step
from portfolio.selectors import customer_get

IMPORT_SESSION_KEY = "usage_import"


@login_required
def usage_import(request: HttpRequest) -> HttpResponse:
    """Upload → every row checked (nothing written) → confirm → all rows stored, or none."""
    if not can_import(request.user):
        raise PermissionDenied
    step = import_step(
        request,
        form_class=UsageImportForm,
        session_key=IMPORT_SESSION_KEY,
        upload=lambda data: {"text": data["file"]},
        run=lambda kept, commit: usage_import_run(text=kept["text"], actor=request.user, commit=commit),
        page="health:usage_import",
    )
    if step.done:
        return step.done
    context = {"form": step.form, "report": step.report, "required": REQUIRED, "optional": OPTIONAL}
    return render(request, "health/usage_import.html", context, status=step.status)


# Health's pages: the override form of the customer page's health panel, and the overrides in force.


def _panel(request: HttpRequest, customer, form: HealthOverrideForm | None = None, *, status: int = 200):
    panel = PanelContent(
        key="health", template="health/_customer_panel.html", data=customer_panel(request.user, customer, form)
    )
    return render(
        request,
        "health/_customer_panel.html",
        {"panel": panel, "customer": customer, "open_override": form is not None and bool(form.errors)},
        status=status,
    )


def _changeable(request: HttpRequest, pk: int):
    if not can_override_health(request.user):
        raise PermissionDenied
    return customer_get(request.user, pk, to_change=True)


@login_required
@require_POST
def override_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Start an override from the panel's form: the panel again (htmx) or the customer page; 422 with the
    form's errors when it is refused."""
    customer = _changeable(request, pk)
    form = HealthOverrideForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.override_start(
                customer=customer,
                actor=request.user,
                band=data["band"],
                reason=data["reason"],
                ends_on=data["ends_on"],
                score=data["score"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if request.htmx:
                customer.refresh_from_db()
                return _panel(request, customer)
            messages.success(request, _("Health overridden."))
            return redirect("portfolio:customer", pk=customer.pk)
    if request.htmx:
        return _panel(request, customer, form, status=422)
    return render(request, "health/override_form.html", {"customer": customer, "form": form}, status=422)


@login_required
@require_POST
def override_end(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _changeable(request, pk)
    override = customer.health_overrides.filter(ended_at__isnull=True).first()
    if override is not None:  # already ended (another tab, the nightly run): nothing left to end
        services.override_end(override=override, actor=request.user)
    if request.htmx:
        customer.refresh_from_db()
        return _panel(request, customer)
    messages.success(request, _("Override ended: the computed health shows again."))
    return redirect("portfolio:customer", pk=customer.pk)


@login_required
def overrides(request: HttpRequest) -> HttpResponse:
    """The overrides in force on the customers the person sees (leaders: their teams')."""
    return render(request, "health/overrides.html", {"overrides": list(overrides_in_force(request.user)[:500])})


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def day_red(request: HttpRequest) -> HttpResponse:
    """My day's customers gone red today, asked for once the page shows: the card alone for htmx (nothing when
    none went red: the placeholder goes), a page of its own otherwise (the placeholder's link without JavaScript)."""
    today = clock.today()
    panel = PanelContent(key="health-red", template="health/_day_panel.html", data=day_panel(request.user, today))
    if wants_fragment(request):
        if panel.data is None:
            return HttpResponse("")
        return render(request, panel.template, {"panel": panel})
    return render(request, "health/day_red.html", {"panel": panel, "today": today})
