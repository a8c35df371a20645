"""The portfolio list, bulk reassignment, a new customer and the CSV import."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_create_customers, can_import, can_reassign
from accounts.forms import apply_service_errors
from accounts.models import OWNER_ROLES
from accounts.selectors import assignable_people, implementation_managers, owner_candidates
from core import bulk
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from portfolio import selectors, services
from portfolio.forms import CustomerForm, ImportForm, PortfolioFilterForm, ReassignForm
from portfolio.import_flow import import_step
from portfolio.import_jobs import import_job_get, import_job_start
from portfolio.imports import COLUMNS, import_job_progress, import_run, report_of
from portfolio.views.common import next_or, page_context

PAGE_SIZE = 25
IMPORT_SESSION_KEY = "portfolio_import"


def _filters(request: HttpRequest) -> tuple[PortfolioFilterForm, selectors.PortfolioFilters]:
    owners = assignable_people(request.user, roles=OWNER_ROLES)
    form = PortfolioFilterForm(request.GET or None, owners=owners)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        return form, selectors.PortfolioFilters(**data)
    return form, selectors.PortfolioFilters()


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def portfolio_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    page = selectors.portfolio_page(request.user, filters, page_number=request.GET.get("page"), per_page=PAGE_SIZE)
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
    )
    template = "portfolio/portfolio_list.html#results" if wants_fragment(request) else "portfolio/portfolio_list.html"
    return render(request, template, context)


@login_required
@require_POST
def portfolio_reassign(request: HttpRequest) -> HttpResponse:
    if not can_reassign(request.user):
        raise PermissionDenied
    form = ReassignForm(
        request.POST,
        people=owner_candidates(request.user),
        customers=selectors.customers_changeable_by(request.user),
    )
    if form.is_valid():
        try:
            moved = services.customers_reassign(
                customers=form.cleaned_data["customers"], to_owner=form.cleaned_data["to_owner"], actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(count)s customers moved to %(name)s.") % {"count": moved, "name": form.cleaned_data["to_owner"]},
            )
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
