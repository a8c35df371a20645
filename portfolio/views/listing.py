"""The portfolio list (its CSV, its saved views), bulk reassignment, a new customer and the CSV import."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_create_customers, can_import, can_reassign
from accounts.forms import apply_service_errors
from accounts.selectors import implementation_managers, owner_candidates
from core import bulk, clock
from core.csvfiles import csv_response
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from portfolio import selectors, services
from portfolio.forms import (
    CustomerForm,
    ImportForm,
    ReassignForm,
    SavedViewForm,
    portfolio_filters,
)
from portfolio.import_flow import import_step
from portfolio.import_jobs import import_job_get, import_job_start
from portfolio.imports import COLUMNS, import_job_progress, import_run, report_of
from portfolio.models import Customer
from portfolio.views.common import next_or, page_context

IMPORT_SESSION_KEY = "portfolio_import"
LIST = "portfolio/portfolio_list.html"


def _filters(request: HttpRequest, data: QueryDict | None = None):
    form, filters = portfolio_filters(request.user, request.GET if data is None else data)
    return form, filters or selectors.PortfolioFilters()


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def portfolio_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    page = selectors.portfolio_page(request.user, filters, page_number=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    nosort = query.copy()
    nosort.pop("sort", None)
    context = page_context(
        page,
        form=form,
        query=query.urlencode(),
        query_nosort=nosort.urlencode(),
        bulk_actions=bulk.load_all(request.user) if can_reassign(request.user) else [],
        page_sizes=selectors.PAGE_SIZES,
        view_form=SavedViewForm(),
    )
    return render(request, f"{LIST}#results" if wants_fragment(request) else LIST, context)


def _reais(cents: int | None) -> Decimal | str:
    return Decimal(cents).scaleb(-2) if cents is not None else ""


@login_required
def portfolio_export(request: HttpRequest) -> HttpResponse:
    """The customers the list's filters select, every one (not a page), in the list's order, streamed: the
    same door, filters and sort as the page."""
    _form, filters = _filters(request)
    rows = selectors.portfolio_list(request.user, filters)
    header = [
        _("Customer"),
        _("CNPJ"),
        _("External id"),
        _("Stage"),
        _("Health"),
        _("Health score"),
        _("Service model"),
        _("Segment"),
        _("Plan"),
        _("CSM"),
        _("ISM"),
        _("MRR"),
        _("Currency"),
        _("Renewal date"),
        _("Last touch"),
        _("Churn request open"),
        _("Delinquent"),
    ]

    # Each choice's label translated once, not once a row (get_FOO_display costs most of a large export's time).
    label = {
        name: {value: str(text) for value, text in Customer._meta.get_field(name).flatchoices}
        for name in ("stage", "health_band", "service_model", "segment", "plan_tier")
    }
    yes, no = _("yes"), _("no")

    def lines():
        yield header
        for c in rows.iterator(chunk_size=1000):
            yield [
                c.name,
                c.cnpj,
                c.external_id or "",
                label["stage"].get(c.stage, c.stage),
                label["health_band"].get(c.health_band, ""),
                c.health_score if c.health_score is not None else "",
                label["service_model"].get(c.service_model, c.service_model),
                label["segment"].get(c.segment, c.segment),
                label["plan_tier"].get(c.plan_tier, c.plan_tier),
                c.owner.full_name if c.owner else "",
                c.implementation_manager.full_name if c.implementation_manager else "",
                _reais(c.mrr_cents),
                c.currency,
                c.renewal_date.isoformat() if c.renewal_date else "",
                timezone.localtime(c.last_touch_at).date().isoformat() if c.last_touch_at else "",
                yes if c.open_churn else no,
                yes if c.delinquent else no,
            ]

    return csv_response(lines(), f"portfolio-{clock.today().isoformat()}.csv")


# --- Saved views: a person's named filters. With htmx the block of saved views answers (422 with the form's
# errors); without, the list again with a message.


def _saved_views_answer(
    request: HttpRequest,
    *,
    query: str,
    form: SavedViewForm | None = None,
    renamed: int | None = None,
    status: int = 200,
    done: str = "",
) -> HttpResponse:
    """``form`` with errors is the save form's, or, with ``renamed``, the rename form of that view."""
    if wants_fragment(request):
        failed_rename = renamed is not None and form is not None and form.errors
        context = {
            "saved_views": list(selectors.saved_views_of(request.user)),
            "current_query": query,
            "view_form": SavedViewForm() if failed_rename or form is None else form,
            "rename_form": form if failed_rename else None,
            "rename_pk": renamed if failed_rename else None,
            "view_tools_open": bool(form is not None and form.errors) or renamed is not None,
        }
        return render(request, f"{LIST}#saved_views", context, status=status)
    if form is not None and form.errors:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    elif done:
        messages.success(request, done)
    return redirect(f"{reverse('portfolio:list')}?{query}")


def _posted_query(request: HttpRequest) -> str:
    """The list's filters as posted with a saved view's form, validated and normalised like the page's."""
    _form, filters = _filters(request, QueryDict(request.POST.get("filters", "")))
    return filters.as_query()


@login_required
@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    query = _posted_query(request)
    form = SavedViewForm(request.POST)
    if form.is_valid():
        try:
            view = services.saved_view_save(name=form.cleaned_data["name"], query=query, actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _saved_views_answer(request, query=query, done=_("View saved: %(name)s.") % {"name": view.name})
    return _saved_views_answer(request, query=query, form=form, status=422)


@login_required
@require_POST
def saved_view_rename(request: HttpRequest, view_pk: int) -> HttpResponse:
    view = get_object_or_404(selectors.saved_views_of(request.user), pk=view_pk)
    query = _posted_query(request)
    form = SavedViewForm(request.POST)
    if form.is_valid():
        try:
            services.saved_view_rename(view=view, name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            done = _("View renamed: %(name)s.") % {"name": view.name}
            return _saved_views_answer(request, query=query, renamed=view.pk, done=done)
    return _saved_views_answer(request, query=query, form=form, renamed=view.pk, status=422)


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, view_pk: int) -> HttpResponse:
    view = get_object_or_404(selectors.saved_views_of(request.user), pk=view_pk)
    services.saved_view_delete(view=view, actor=request.user)
    done = _("View deleted: %(name)s.") % {"name": view.name}
    return _saved_views_answer(request, query=_posted_query(request), done=done)


@login_required
@require_POST
def portfolio_reassign(request: HttpRequest) -> HttpResponse:
    if not can_reassign(request.user):
        raise PermissionDenied
    form = ReassignForm(request.POST, people=owner_candidates(request.user), user=request.user)
    if form.is_valid():
        try:
            moved = services.customers_reassign(
                customers=form.cleaned_data["selection"], to_owner=form.cleaned_data["to_owner"], actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(count)s customers moved to %(name)s.") % {"count": moved, "name": form.cleaned_data["to_owner"]},
            )
    elif form.non_field_errors():
        messages.error(request, " ".join(form.non_field_errors()))
    else:
        messages.error(request, _("Choose the customers and the CSM who takes them."))
    return redirect(next_or(request, reverse("portfolio:list")))


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    if not can_create_customers(request.user):
        raise PermissionDenied
    owners = owner_candidates(request.user)
    form = CustomerForm(
        request.POST or None,
        owners=owners,
        implementers=implementation_managers(),
        initial={"implementation_manager": request.user},
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is in onboarding.") % {"name": customer})
            return redirect("portfolio:customer", pk=customer.pk)
    return render(request, "portfolio/customer_form.html", {"form": form}, status=422 if form.errors else 200)


@login_required
def import_csv(request: HttpRequest) -> HttpResponse:
    """Upload → preview every row (nothing written) → confirm → all rows or none."""
    if not can_import(request.user):
        raise PermissionDenied
    step = import_step(
        request,
        form_class=ImportForm,
        session_key=IMPORT_SESSION_KEY,
        upload=lambda data: {"kind": data["kind"], "text": data["file"]},
        run=lambda kept, commit: import_run(kind=kept["kind"], text=kept["text"], actor=request.user, commit=commit),
        page="portfolio:import",
        start_job=lambda kept, rows: redirect(
            "portfolio:import_job",
            job_pk=import_job_start(kind=kept["kind"], text=kept["text"], rows=rows, actor=request.user).pk,
        ),
    )
    if step.done:
        return step.done
    context = {"form": step.form, "report": step.report, "columns": COLUMNS}
    return render(request, "portfolio/import.html", context, status=step.status)


@login_required
@vary_on_headers("HX-Request")
def import_job(request: HttpRequest, job_pk: int) -> HttpResponse:
    """A large import's progress (htmx asks again every second until it ends), then its result."""
    job = import_job_get(request.user, job_pk)
    context = {"job": job, "progress": import_job_progress(job), "report": report_of(job)}
    template = "portfolio/import_job.html#job-status" if wants_fragment(request) else "portfolio/import_job.html"
    return render(request, template, context)
