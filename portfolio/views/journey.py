"""The journey's steps on the customer page: milestones and the handoff, success reviews, churn requests
and the UTI exit."""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import get_visible_or_404
from accounts.forms import apply_service_errors
from accounts.selectors import owner_candidates
from core import clock
from core.htmx import FRAGMENT_HEADERS
from portfolio import selectors, services
from portfolio.forms import (
    ChurnRequestForm,
    ChurnResolveForm,
    HandoffForm,
    MilestoneAchieveForm,
    ReviewForm,
    SaveAttemptForm,
    UtiExitForm,
)
from portfolio.models import ChurnOutcome, ReviewStatus, Stage
from portfolio.money import to_cents
from portfolio.settings_review_selectors import review_questions
from portfolio.views.customers import changeable_customer, customer_form_page, customer_form_post, posted


@login_required
@require_POST
def milestone_achieve(request: HttpRequest, pk: int, milestone_pk: int) -> HttpResponse:
    customer = changeable_customer(request, pk)
    milestone = get_visible_or_404(selectors.milestones_visible_to(request.user), pk=milestone_pk, customer=customer)
    # Without a date (an older page, a client without date inputs) the milestone is reached today.
    form = MilestoneAchieveForm(request.POST or {"achieved_on": timezone.localdate()})
    if form.is_valid():
        try:
            services.milestone_achieve(
                milestone=milestone, achieved_on=form.cleaned_data["achieved_on"], actor=request.user
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
    if form.errors:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        messages.error(
            request,
            _("%(milestone)s not marked: %(errors)s")
            % {
                "milestone": milestone.label,
                "errors": " ".join(errors),
            },
        )
    else:
        messages.success(request, _("Milestone reached."))
    return redirect("portfolio:customer", pk=customer.pk)


@login_required
def handoff(request: HttpRequest, pk: int) -> HttpResponse:
    customer = changeable_customer(request, pk)
    if customer.stage != Stage.ONBOARDING:
        # Only onboarding ends with a handoff: a customer past it has had one (or never needed one).
        messages.error(
            request,
            _("%(name)s is no longer in onboarding: there is no handoff to record.") % {"name": customer},
        )
        return redirect("portfolio:customer", pk=customer.pk)
    people = owner_candidates(request.user)
    form = HandoffForm(request.POST or None, people=people, initial={"to_user": customer.owner})
    milestones = selectors.customer_milestones(customer)
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
        {
            "customer": customer,
            "form": form,
            "milestones": milestones,
            "today": clock.today(),
            "unreached_warning": services.handoff_unreached_warning(customer, milestones),
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def move_to_ongoing(request: HttpRequest, pk: int) -> HttpResponse:
    customer = changeable_customer(request, pk)
    try:
        services.customer_move_to_ongoing(customer=customer, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("portfolio:customer", pk=customer.pk)


@login_required
def review(request: HttpRequest, pk: int, review_pk: int) -> HttpResponse:
    if request.method == "POST":
        customer = changeable_customer(request, pk)
    else:
        customer = selectors.customer_get(request.user, pk)
    item = get_visible_or_404(selectors.reviews_visible_to(request.user), pk=review_pk, customer=customer)
    if item.status == ReviewStatus.DONE or request.GET.get("print"):
        return render(request, "portfolio/review_report.html", {"customer": customer, "review": item})
    form = ReviewForm(request.POST or None, questions=review_questions())
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
@require_http_methods(["GET", "POST"])
@vary_on_headers(*FRAGMENT_HEADERS)
def churn_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a churn request. GET: its form, which the customer page asks for once its panel is opened (a page
    of its own without JavaScript); a refused form answers again with its errors (422)."""
    customer = changeable_customer(request, pk)
    # The ids the customer page gives it (``own_ids``): the same whether it came with the page or after.
    form = ChurnRequestForm(posted(request), auto_id="id_churn_%s")

    fragment = partial(
        customer_form_page,
        request,
        customer,
        action=reverse("portfolio:churn_open", kwargs={"pk": customer.pk}),
        title=_("Record a churn request"),
        submit=_("Record the churn request"),
        danger=True,
    )

    if request.method == "GET":
        return fragment(form)

    def apply(data: dict) -> tuple[int, str]:
        services.churn_request_open(customer=customer, actor=request.user, **data)
        return messages.WARNING, _("Churn request recorded. Try to save the customer: log every offer.")

    return customer_form_post(request, customer, form, form_name="churn_form", apply=apply, fragment=fragment)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers(*FRAGMENT_HEADERS)
def churn_save_attempt(request: HttpRequest, pk: int, churn_pk: int) -> HttpResponse:
    """An offer made to keep the customer; GET: its form, which the page asks for once the panel is opened."""
    customer = changeable_customer(request, pk)
    churn = get_visible_or_404(selectors.churn_requests_visible_to(request.user), pk=churn_pk, customer=customer)
    form = SaveAttemptForm(posted(request), auto_id="id_save_%s")

    fragment = partial(
        customer_form_page,
        request,
        customer,
        action=reverse("portfolio:churn_save", kwargs={"pk": customer.pk, "churn_pk": churn.pk}),
        title=_("Log a save attempt"),
        submit=_("Save the attempt"),
    )

    if request.method == "GET":
        return fragment(form)

    def apply(data: dict) -> tuple[int, str]:
        services.save_attempt_add(churn_request=churn, offer=data["offer"], actor=request.user)
        return messages.SUCCESS, _("Save attempt recorded.")

    return customer_form_post(request, customer, form, form_name="save_form", apply=apply, fragment=fragment)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers(*FRAGMENT_HEADERS)
def churn_resolve(request: HttpRequest, pk: int, churn_pk: int) -> HttpResponse:
    """How the churn request ended; GET: its form, which the page asks for once the panel is opened."""
    customer = changeable_customer(request, pk)
    churn = get_visible_or_404(selectors.churn_requests_visible_to(request.user), pk=churn_pk, customer=customer)
    form = ChurnResolveForm(
        posted(request), subscriptions=selectors.subscriptions_running(customer), auto_id="id_resolve_%s"
    )

    fragment = partial(
        customer_form_page,
        request,
        customer,
        action=reverse("portfolio:churn_resolve", kwargs={"pk": customer.pk, "churn_pk": churn.pk}),
        title=_("Close the request"),
        submit=_("Record the outcome"),
    )

    if request.method == "GET":
        return fragment(form)

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

    return customer_form_post(request, customer, form, form_name="resolve_form", apply=apply, fragment=fragment)


@login_required
@require_POST
def uti_exit(request: HttpRequest, pk: int, stay_pk: int) -> HttpResponse:
    customer = changeable_customer(request, pk)
    stay = get_visible_or_404(selectors.uti_stays_visible_to(request.user), pk=stay_pk, customer=customer)
    form = UtiExitForm(request.POST)

    def apply(data: dict) -> tuple[int, str]:
        services.uti_exit(stay=stay, actor=request.user, **data)
        return messages.SUCCESS, _("UTI exit recorded.")

    return customer_form_post(request, customer, form, form_name="uti_form", apply=apply)
