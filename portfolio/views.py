"""Pages of the portfolio. Views parse input, call a selector or a service, and render; no rules here."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_create_customers, can_reassign, can_write, get_visible_or_404
from accounts.forms import apply_service_errors
from accounts.models import OWNER_ROLES
from accounts.selectors import assignable_people, implementation_managers, owner_candidates, users_visible_to
from portfolio import selectors, services
from portfolio.forms import (
    ActivityForm,
    ChurnRequestForm,
    ChurnResolveForm,
    ContactForm,
    CustomerForm,
    HandoffForm,
    OpportunityForm,
    PortfolioFilterForm,
    ReassignForm,
    ReviewForm,
    SaveAttemptForm,
    TaskForm,
    UtiExitForm,
)
from portfolio.import_flow import import_step
from portfolio.models import RUNNING_STATUSES, ActivityKind, ChurnOutcome, ReviewStatus, Stage, UtiExit
from portfolio.money import to_cents
from portfolio.services import REVIEW_TEMPLATE

PAGE_SIZE = 25


def _require_write(request: HttpRequest) -> None:
    if not can_write(request.user):
        raise PermissionDenied


# --- My day --------------------------------------------------------------------------------------------


@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    """The CSM's home: what needs them today and why."""
    return render(request, "portfolio/my_day.html", selectors.my_day(request.user))


# --- Portfolio list --------------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> tuple[PortfolioFilterForm, selectors.PortfolioFilters]:
    owners = assignable_people(request.user, roles=OWNER_ROLES)
    form = PortfolioFilterForm(request.GET or None, owners=owners)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        return form, selectors.PortfolioFilters(**data)
    return form, selectors.PortfolioFilters()


@login_required
@vary_on_headers("HX-Request")
def portfolio_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    customers = selectors.portfolio_list(request.user, filters)
    totals = selectors.portfolio_totals(request.user, filters)
    paginator = Paginator(customers, PAGE_SIZE)
    paginator.count = totals["count"]  # already counted with the MRR total: one COUNT, not two
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    nosort = query.copy()
    nosort.pop("sort", None)
    context = {
        "query_nosort": nosort.urlencode(),
        "form": form,
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "today": timezone.localdate(),
        "can_reassign": can_reassign(request.user),
        "assignees": owner_candidates(request.user) if can_reassign(request.user) else [],
        "totals": totals,
        "can_create": can_create_customers(request.user),
    }
    template = "portfolio/portfolio_list.html#results" if request.htmx else "portfolio/portfolio_list.html"
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
    return redirect(request.POST.get("next") or reverse("portfolio:list"))


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


# --- The customer page -----------------------------------------------------------------------------------


def _customer_context(request: HttpRequest, customer, **forms) -> dict:
    user = request.user
    people = assignable_people(user) if can_reassign(user) else users_visible_to(user)
    contacts = list(customer.contacts.all())
    subscriptions = list(customer.subscriptions.all())
    churn_requests = list(customer.churn_requests.all())
    open_churn = next((c for c in churn_requests if c.outcome == ChurnOutcome.OPEN), None)
    uti = next((s for s in customer.uti_stays.all() if s.exit == UtiExit.OPEN), None)
    reviews = list(customer.reviews.all())
    next_review = next((r for r in reviews if r.status == ReviewStatus.SCHEDULED), None)
    running = [s for s in subscriptions if s.is_current]
    kind = request.GET.get("kind", "")
    history = selectors.mrr_history(customer)
    context = {
        "customer": customer,
        "contacts": contacts,
        "coverage": selectors.stakeholder_coverage(contacts),
        "subscriptions": subscriptions,
        "running_subscriptions": running,
        "mrr_history": history,
        "mrr_max": max([h["mrr_cents"] for h in history] + [1]),
        "milestones": list(customer.milestones.all()),
        "handoff": getattr(customer, "handoff", None),
        "reviews": reviews,
        "next_review": next_review,
        "churn_requests": churn_requests,
        "open_churn": open_churn,
        "uti": uti,
        "opportunities": list(customer.opportunities.all()),
        "tasks": customer.open_tasks,
        "timeline": selectors.customer_timeline(user, customer, kind=kind),
        "timeline_kind": kind,
        "timeline_kinds": ActivityKind.choices,
        "can_write": can_write(user),
        "today": timezone.localdate(),
        "activity_form": forms.get("activity_form") or ActivityForm(),
        "task_form": forms.get("task_form") or TaskForm(people=people, initial={"owner": customer.owner or user}),
        "contact_form": forms.get("contact_form") or ContactForm(),
        "churn_form": forms.get("churn_form") or ChurnRequestForm(),
        "save_form": forms.get("save_form") or SaveAttemptForm(),
        "resolve_form": forms.get("resolve_form")
        or ChurnResolveForm(subscriptions=customer.subscriptions.filter(pk__in=[s.pk for s in running])),
        "uti_form": forms.get("uti_form") or UtiExitForm(),
        "opportunity_form": forms.get("opportunity_form") or OpportunityForm(),
        "open_panel": forms.get("open_panel", ""),
    }
    return context


_CUSTOMER_PEOPLE = ("owner", "implementation_manager", "farmer")


def _customer(request: HttpRequest, pk: int):
    """The customer row alone (404 outside the user's scope); the page loads the rest when it renders."""
    return get_visible_or_404(selectors.customers_visible_to(request.user).select_related(*_CUSTOMER_PEOPLE), pk=pk)


def _render_customer(request: HttpRequest, customer, *, status: int = 200, **forms) -> HttpResponse:
    """The whole customer page, with everything it shows loaded in a fixed number of queries."""
    detailed = selectors.customer_detail(request.user, customer.pk)
    return render(
        request, "portfolio/customer_detail.html", _customer_context(request, detailed, **forms), status=status
    )


@login_required
@vary_on_headers("HX-Request")
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not (request.htmx and request.GET.get("partial") == "timeline"):
        detailed = selectors.customer_detail(request.user, pk)
        return render(request, "portfolio/customer_detail.html", _customer_context(request, detailed))
    customer = _customer(request, pk)
    context = {
        "customer": customer,
        "timeline": selectors.customer_timeline(request.user, customer, kind=request.GET.get("kind", "")),
        "timeline_kind": request.GET.get("kind", ""),
        "timeline_kinds": ActivityKind.choices,
    }
    return render(request, "portfolio/customer_detail.html#timeline", context)


def _changeable_customer(request: HttpRequest, pk: int):
    """The customer a write acts on: 403 for read-only people, 404 outside what the user may change."""
    _require_write(request)
    customers = selectors.customers_changeable_by(request.user).select_related(*_CUSTOMER_PEOPLE)
    return get_visible_or_404(customers, pk=pk)


def _customer_form_post(
    request: HttpRequest,
    customer,
    form,
    *,
    form_name: str,
    apply: Callable[[dict], tuple[int, str]],
    panel: str = "",
) -> HttpResponse:
    """A form of the customer page: a valid one goes to the service through ``apply``, which returns the
    message to show (level, text), and back to the page; a form the form or the service refuses re-renders
    the page with its errors (422), its panel open and nothing lost."""
    if form.is_valid():
        try:
            level, text = apply(form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.add_message(request, level, text)
            return redirect("portfolio:customer", pk=customer.pk)
    return _render_customer(request, customer, **{form_name: form}, open_panel=panel, status=422)


def _timeline_card(request: HttpRequest, customer, form, *, status: int = 200) -> HttpResponse:
    context = {
        "customer": customer,
        "timeline": selectors.customer_timeline(request.user, customer),
        "timeline_kinds": ActivityKind.choices,
        "activity_form": form,
        "can_write": True,
    }
    return render(request, "portfolio/customer_detail.html#timeline-card", context, status=status)


@login_required
@require_POST
def activity_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    form = ActivityForm(request.POST)
    if form.is_valid():
        services.activity_log(
            customer=customer,
            kind=form.cleaned_data["kind"],
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            happened_at=form.cleaned_data["happened_at"],
            author=request.user,
        )
        if request.htmx:
            return _timeline_card(request, customer, ActivityForm())
        messages.success(request, _("Added to the timeline."))
        return redirect("portfolio:customer", pk=customer.pk)
    if request.htmx:
        return _timeline_card(request, customer, form, status=422)
    return _render_customer(request, customer, activity_form=form, status=422)


@login_required
@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    people = assignable_people(request.user) if can_reassign(request.user) else users_visible_to(request.user)
    form = TaskForm(request.POST, people=people)

    def apply(data: dict) -> tuple[int, str]:
        services.task_create(customer=customer, created_by=request.user, **data)
        return messages.SUCCESS, _("Task created.")

    return _customer_form_post(request, customer, form, form_name="task_form", apply=apply, panel="task")


@login_required
@require_POST
def task_complete(request: HttpRequest, task_pk: int) -> HttpResponse:
    _require_write(request)
    task = get_visible_or_404(selectors.tasks_visible_to(request.user).select_related("customer"), pk=task_pk)
    services.task_complete(task=task, actor=request.user)
    if request.htmx:
        return render(request, "portfolio/my_day.html#task-done", {"task": task})
    return redirect(request.POST.get("next") or reverse("portfolio:customer", args=[task.customer_id]))


@login_required
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    form = ContactForm(request.POST)

    def apply(data: dict) -> tuple[int, str]:
        services.contact_create(customer=customer, actor=request.user, **data)
        return messages.SUCCESS, _("Contact added.")

    return _customer_form_post(request, customer, form, form_name="contact_form", apply=apply, panel="contact")


@login_required
@require_POST
def milestone_achieve(request: HttpRequest, pk: int, milestone_pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    milestone = get_visible_or_404(selectors.milestones_visible_to(request.user), pk=milestone_pk, customer=customer)
    services.milestone_achieve(milestone=milestone, achieved_on=timezone.localdate(), actor=request.user)
    messages.success(request, _("Milestone reached."))
    return redirect("portfolio:customer", pk=customer.pk)


@login_required
def handoff(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    people = owner_candidates(request.user)
    form = HandoffForm(request.POST or None, people=people, initial={"to_user": customer.owner})
    if request.method == "POST" and form.is_valid():
        try:
            services.handoff_complete(customer=customer, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Handoff recorded: %(name)s is now ongoing.") % {"name": customer})
            return redirect("portfolio:customer", pk=customer.pk)
    return render(
        request,
        "portfolio/handoff_form.html",
        {"customer": customer, "form": form, "milestones": list(customer.milestones.all())},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def move_to_ongoing(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    try:
        services.customer_move_to_ongoing(customer=customer, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("portfolio:customer", pk=customer.pk)


@login_required
def review(request: HttpRequest, pk: int, review_pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk) if request.method == "POST" else _customer(request, pk)
    item = get_visible_or_404(selectors.reviews_visible_to(request.user), pk=review_pk, customer=customer)
    if item.status == ReviewStatus.DONE or request.GET.get("print"):
        return render(request, "portfolio/review_report.html", {"customer": customer, "review": item})
    form = ReviewForm(request.POST or None, questions=REVIEW_TEMPLATE)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_complete(
                review=item,
                held_on=form.cleaned_data["held_on"],
                past=form.answers("past"),
                future=form.answers("future"),
                goals=form.cleaned_data["goals"].splitlines(),
                outcome=form.cleaned_data["outcome"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Success review recorded; the next one is scheduled."))
            return redirect("portfolio:review", pk=customer.pk, review_pk=item.pk)
    return render(
        request,
        "portfolio/review_form.html",
        {"customer": customer, "review": item, "form": form},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def churn_open(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    form = ChurnRequestForm(request.POST)

    def apply(data: dict) -> tuple[int, str]:
        services.churn_request_open(customer=customer, actor=request.user, **data)
        return messages.WARNING, _("Churn request recorded. Try to save the customer: log every offer.")

    return _customer_form_post(request, customer, form, form_name="churn_form", apply=apply, panel="churn")


@login_required
@require_POST
def churn_save_attempt(request: HttpRequest, pk: int, churn_pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    churn = get_visible_or_404(selectors.churn_requests_visible_to(request.user), pk=churn_pk, customer=customer)
    form = SaveAttemptForm(request.POST)

    def apply(data: dict) -> tuple[int, str]:
        services.save_attempt_add(churn_request=churn, offer=data["offer"], actor=request.user)
        return messages.SUCCESS, _("Save attempt recorded.")

    return _customer_form_post(request, customer, form, form_name="save_form", apply=apply)


@login_required
@require_POST
def churn_resolve(request: HttpRequest, pk: int, churn_pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    churn = get_visible_or_404(selectors.churn_requests_visible_to(request.user), pk=churn_pk, customer=customer)
    running: QuerySet = customer.subscriptions.filter(status__in=RUNNING_STATUSES)
    form = ChurnResolveForm(request.POST, subscriptions=running)

    def apply(data: dict) -> tuple[int, str]:
        downsell = None
        if data["outcome"] == ChurnOutcome.DOWNSELL:
            downsell = {data["subscription"]: to_cents(data["new_amount"])}
        services.churn_request_resolve(
            churn_request=churn,
            outcome=data["outcome"],
            actor=request.user,
            effective_date=data["effective_date"],
            downsell=downsell,
        )
        if data["outcome"] == ChurnOutcome.CHURNED:
            return messages.WARNING, _("%(name)s churned. The reason is kept for reporting.") % {"name": customer}
        return messages.SUCCESS, _("Saved! %(name)s starts its recovery month in UTI.") % {"name": customer}

    return _customer_form_post(request, customer, form, form_name="resolve_form", apply=apply)


@login_required
@require_POST
def uti_exit(request: HttpRequest, pk: int, stay_pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    stay = get_visible_or_404(selectors.uti_stays_visible_to(request.user), pk=stay_pk, customer=customer)
    form = UtiExitForm(request.POST)

    def apply(data: dict) -> tuple[int, str]:
        services.uti_exit(stay=stay, actor=request.user, **data)
        return messages.SUCCESS, _("UTI exit recorded.")

    return _customer_form_post(request, customer, form, form_name="uti_form", apply=apply)


@login_required
@require_POST
def opportunity_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _changeable_customer(request, pk)
    form = OpportunityForm(request.POST)

    def apply(data: dict) -> tuple[int, str]:
        services.opportunity_create(
            customer=customer,
            actor=request.user,
            kind=data["kind"],
            source=data["source"],
            title=data["title"],
            mrr_cents=to_cents(data["mrr"]),
        )
        return messages.SUCCESS, _("Expansion opportunity added.")

    return _customer_form_post(request, customer, form, form_name="opportunity_form", apply=apply, panel="opportunity")


# --- UTI board ------------------------------------------------------------------------------------------------


UTI_PAGE_SIZE = 50


@login_required
def uti_board(request: HttpRequest) -> HttpResponse:
    stays = (
        selectors.uti_stays_visible_to(request.user)
        .filter(exit=UtiExit.OPEN)
        .select_related("customer__owner", "churn_request__reason")
        .order_by("ends_on", "pk")
    )
    recent = (
        selectors.uti_stays_visible_to(request.user)
        .exclude(exit=UtiExit.OPEN)
        .select_related("customer__owner")
        .order_by("-exited_on")[:20]
    )
    outcomes = selectors.uti_outcomes(request.user)
    # The nearest last days first, a page at a time: a leader's team can have hundreds in UTI at once.
    paginator = Paginator(stays, UTI_PAGE_SIZE)
    paginator.count = outcomes["in_uti"]  # the open stays, already counted with the exits
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "portfolio/uti_board.html",
        {"page": page, "recent": recent, "outcomes": outcomes, "Stage": Stage},
    )


# --- CSV import ------------------------------------------------------------------------------------------------

IMPORT_SESSION_KEY = "portfolio_import"


@login_required
def import_csv(request: HttpRequest) -> HttpResponse:
    """Upload → preview every row (nothing written) → confirm → all rows or none."""
    from portfolio.forms import ImportForm
    from portfolio.imports import COLUMNS, import_run

    _require_write(request)
    step = import_step(
        request,
        form_class=ImportForm,
        session_key=IMPORT_SESSION_KEY,
        upload=lambda data: {"kind": data["kind"], "text": data["file"]},
        run=lambda kept, commit: import_run(kind=kept["kind"], text=kept["text"], actor=request.user, commit=commit),
        page="portfolio:import",
    )
    if step.done:
        return step.done
    context = {"form": step.form, "report": step.report, "columns": COLUMNS}
    return render(request, "portfolio/import.html", context, status=step.status)


@login_required
def onboarding_board(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portfolio/onboarding.html",
        {**selectors.onboarding_board(request.user), "today": timezone.localdate()},
    )


@login_required
@require_POST
def opportunity_close(request: HttpRequest, pk: int, opportunity_pk: int) -> HttpResponse:
    """Win (the subscription grows: an expansion in the ledger) or lose an expansion opportunity."""
    customer = _changeable_customer(request, pk)
    opportunity = get_visible_or_404(
        selectors.opportunities_visible_to(request.user), pk=opportunity_pk, customer=customer
    )
    try:
        if request.POST.get("result") == "won":
            subscription = None
            if request.POST.get("subscription"):
                subscription = get_visible_or_404(
                    selectors.subscriptions_visible_to(request.user),
                    pk=request.POST["subscription"],
                    customer=customer,
                )
            services.opportunity_win(
                opportunity=opportunity,
                actor=request.user,
                effective_date=timezone.localdate(),
                subscription=subscription,
                product=request.POST.get("product", ""),
            )
            messages.success(request, _("Won! The subscription changed and the expansion is in the MRR ledger."))
        else:
            services.opportunity_move(opportunity=opportunity, stage="lost", actor=request.user)
            messages.info(request, _("Opportunity marked as lost."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("portfolio:customer", pk=customer.pk)
