"""The customer page and the forms on it that add to the customer: timeline entries, tasks, contacts and
expansion opportunities. The journey's forms (handoff, reviews, churn, UTI) are in ``journey``."""

from collections.abc import Callable
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
from core import clock, touches
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from portfolio import selectors, services
from portfolio.forms import (
    ActivityForm,
    ContactForm,
    OpportunityCloseForm,
    OpportunityForm,
    TaskForm,
    UtiExitForm,
)
from portfolio.models import HUMAN_TOUCHES, Customer, OpportunityStage
from portfolio.money import to_cents
from portfolio.views.common import page_context, require_write


def changeable_customer(request: HttpRequest, pk: int) -> Customer:
    """The customer a write acts on: 403 for read-only people, 404 outside what the user may change."""
    require_write(request)
    return selectors.customer_get(request.user, pk, to_change=True)


def own_ids(context: dict) -> dict:
    """Give each form of the page ids of its own (``id_activity_title``, ``id_task_title``): several forms
    share field names, and two elements with one id break their labels and ``aria-describedby``."""
    for name, value in context.items():
        if name.endswith("_form") and hasattr(value, "auto_id"):
            value.auto_id = f"id_{name.removesuffix('_form')}_%s"
    return context


def contact_edit_form(contact, data=None) -> ContactForm:
    """The form that changes one contact, with ids of its own (several contacts are on the page)."""
    initial = {f: getattr(contact, f) for f in ("name", "email", "phone", "role", "language")}
    form = ContactForm(data, initial=initial, prefix=f"contact-{contact.pk}")
    form.contact = contact
    return form


def _give_contacts_edit_forms(contacts, bound: ContactForm | None) -> None:
    """The contact whose change failed keeps its form (``edit_form``), with its input and errors, its panel
    open; the others' forms are asked for when their panel is opened (``contact_edit``), not rendered here."""
    for contact in contacts:
        contact.edit_form = bound if bound is not None and bound.contact.pk == contact.pk else None


# The forms of the page's panels, which the page asks for once a panel is opened (``customer_form_page``): on
# the page itself only when a post without htmx was refused (bound, with its errors, its panel open).
PANEL_FORMS = ("task_form", "contact_form", "churn_form", "save_form", "resolve_form", "opportunity_form")


def _customer_page_context(request: HttpRequest, page: selectors.CustomerPage, **forms) -> dict:
    """The page's data and its forms: the timeline's and the UTI exit's (shown open) given bound with their errors,
    or empty ones; the panels' forms (``PANEL_FORMS``, a contact's) only when given bound."""
    _give_contacts_edit_forms(page.contacts, forms.get("contact_edit_form"))
    context = page_context(
        page,
        activity_form=forms.get("activity_form") or ActivityForm(contacts=page.contacts),
        uti_form=forms.get("uti_form") or UtiExitForm(),
        **{name: forms.get(name) for name in PANEL_FORMS},
        open_task_count=len(page.tasks),
    )
    return own_ids(context)


def render_customer(request: HttpRequest, customer: Customer, *, status: int = 200, **forms) -> HttpResponse:
    """The whole customer page, with everything it shows loaded in a fixed number of queries."""
    page = selectors.customer_page(request.user, customer.pk, timeline_kind=request.GET.get("kind", ""))
    return render(
        request, "portfolio/customer_detail.html", _customer_page_context(request, page, **forms), status=status
    )


def customer_form_page(
    request: HttpRequest,
    customer: Customer,
    form,
    *,
    action: str,
    title: str,
    submit: str,
    danger: bool = False,
    status: int = 200,
) -> HttpResponse:
    """A form of the customer page that the page asks for once its panel is opened: the form alone for htmx,
    a page of its own otherwise (the panel's link without JavaScript). It posts to ``action``."""
    context = {
        "customer": customer,
        "form": form,
        "action": action,
        "title": title,
        "submit": submit,
        "danger": danger,
    }
    template = "portfolio/customer_panel_form.html"
    return render(request, f"{template}#form" if wants_fragment(request) else template, context, status=status)


def customer_form_post(
    request: HttpRequest,
    customer: Customer,
    form,
    *,
    form_name: str,
    apply: Callable[[dict], tuple[int, str]],
    fragment: Callable[..., HttpResponse] | None = None,
) -> HttpResponse:
    """A form of the customer page: a valid one goes to the service through ``apply``, which returns the
    message to show (level, text), and back to the page; a form the form or the service refuses re-renders
    the page with its errors (422), its panel open and nothing lost. A form the page asked for once opened
    (``fragment``: its :func:`customer_form_page`) and posted by htmx answers itself again with its errors
    (422), or sends the person back to the page (``HX-Redirect``), where the message shows."""
    if form.is_valid():
        try:
            level, text = apply(form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.add_message(request, level, text)
            if fragment is not None and request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("portfolio:customer", kwargs={"pk": customer.pk})
                return response
            return redirect("portfolio:customer", pk=customer.pk)
    if fragment is not None and request.htmx:
        return fragment(form, status=422)
    return render_customer(request, customer, **{form_name: form}, status=422)


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if wants_fragment(request) and request.GET.get("partial") == "timeline":
        # The timeline filter: the customer row and its timeline, none of the page's prefetches.
        customer = selectors.customer_get(request.user, pk)
        card = selectors.customer_timeline_card(request.user, customer, kind=kind)
        return render(request, "portfolio/customer_detail.html#timeline", page_context(card))
    page = selectors.customer_page(request.user, pk, timeline_kind=kind)
    return render(request, "portfolio/customer_detail.html", _customer_page_context(request, page))


def _timeline_card(
    request: HttpRequest,
    customer: Customer,
    form,
    *,
    status: int = 200,
    touched: bool = False,
    touch_notes: list[str] = (),
) -> HttpResponse:
    """The timeline card alone, for htmx; ``touched``: with the header's "Last touch" (out of band), which
    the entry just logged may have moved; ``touch_notes``: what the touch closed (a detractor's loop…)."""
    card = selectors.customer_timeline_card(request.user, customer)
    context = own_ids(page_context(card, activity_form=form, can_write=True, touched=touched, touch_notes=touch_notes))
    return render(request, "portfolio/customer_detail.html#timeline-card", context, status=status)


@login_required
@require_POST
def activity_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = changeable_customer(request, pk)
    contacts = selectors.customer_contacts(customer)
    form = ActivityForm(request.POST, contacts=contacts)
    if form.is_valid():
        data = form.cleaned_data
        happened_at = data["happened_at"] or clock.now()
        contact = data["contact"]
        # What the touch will close (a detractor's loop…) is read before it is written: the apps above act
        # on it after commit, and the person should read it now.
        notes = (
            touches.outcomes(customer_id=customer.pk, contact_id=contact.pk, happened_at=happened_at)
            if contact is not None and data["kind"] in HUMAN_TOUCHES
            else []
        )
        services.activity_log(
            customer=customer,
            kind=data["kind"],
            title=data["title"],
            body=data["body"],
            happened_at=happened_at,
            author=request.user,
            contact=contact,
        )
        if request.htmx:
            return _timeline_card(request, customer, ActivityForm(contacts=contacts), touched=True, touch_notes=notes)
        messages.success(request, _("Added to the timeline."))
        for note in notes:
            messages.success(request, note)
        return redirect("portfolio:customer", pk=customer.pk)
    if request.htmx:
        return _timeline_card(request, customer, form, status=422)
    return render_customer(request, customer, activity_form=form, status=422)


def posted(request: HttpRequest) -> dict | None:
    """A panel form's data: what was posted, or nothing (GET: the empty form)."""
    return request.POST if request.method == "POST" else None


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers(*FRAGMENT_HEADERS)
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A new task for the customer; GET: its form, which the page asks for once the panel is opened."""
    customer = changeable_customer(request, pk)
    form = TaskForm(
        posted(request),
        people=selectors.task_assignees(request.user),
        initial={"owner": customer.owner or request.user},
        auto_id="id_task_%s",
    )

    fragment = partial(
        customer_form_page,
        request,
        customer,
        action=reverse("portfolio:task_add", kwargs={"pk": customer.pk}),
        title=_("New task"),
        submit=_("Create task"),
    )

    if request.method == "GET":
        return fragment(form)

    def apply(data: dict) -> tuple[int, str]:
        services.task_create(customer=customer, created_by=request.user, **data)
        return messages.SUCCESS, _("Task created.")

    return customer_form_post(request, customer, form, form_name="task_form", apply=apply, fragment=fragment)


@login_required
@require_POST
def customer_task_complete(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    """A task marked done on the customer page: with htmx, the row struck through and the "Open tasks"
    counter updated in the same response (out of band)."""
    customer = changeable_customer(request, pk)
    task = get_visible_or_404(selectors.tasks_visible_to(request.user), pk=task_pk, customer=customer)
    services.task_complete(task=task, actor=request.user)
    if request.htmx:
        context = {"task": task, "open_task_count": selectors.open_task_count(customer)}
        return render(request, "portfolio/customer_detail.html#task-done", context)
    messages.success(request, _("Task done."))
    return redirect("portfolio:customer", pk=customer.pk)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers(*FRAGMENT_HEADERS)
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A new contact of the customer; GET: its form, which the page asks for once the panel is opened."""
    customer = changeable_customer(request, pk)
    form = ContactForm(posted(request), auto_id="id_contact_%s")

    fragment = partial(
        customer_form_page,
        request,
        customer,
        action=reverse("portfolio:contact_add", kwargs={"pk": customer.pk}),
        title=_("New contact"),
        submit=_("Add contact"),
    )

    if request.method == "GET":
        return fragment(form)

    def apply(data: dict) -> tuple[int, str]:
        services.contact_create(customer=customer, actor=request.user, **data)
        return messages.SUCCESS, _("Contact added.")

    return customer_form_post(request, customer, form, form_name="contact_form", apply=apply, fragment=fragment)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers(*FRAGMENT_HEADERS)
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Change a contact from the customer page. GET: its form, which the page asks for once the contact's panel
    is opened (a page of its own without JavaScript); a refused form answers again with its errors (422)."""
    customer = changeable_customer(request, pk)
    contact = get_visible_or_404(
        selectors.contacts_visible_to(request.user).filter(archived_at__isnull=True), pk=contact_pk, customer=customer
    )
    form = contact_edit_form(contact, posted(request))

    fragment = partial(
        customer_form_page,
        request,
        customer,
        action=reverse("portfolio:contact_edit", kwargs={"pk": customer.pk, "contact_pk": contact.pk}),
        title=_("Edit %(name)s") % {"name": contact.name},
        submit=_("Save contact"),
    )

    if request.method == "GET":
        return fragment(form)

    def apply(data: dict) -> tuple[int, str]:
        services.contact_update(contact=contact, actor=request.user, **data)
        return messages.SUCCESS, _("Contact saved.")

    return customer_form_post(request, customer, form, form_name="contact_edit_form", apply=apply, fragment=fragment)


@login_required
@require_POST
def contact_archive(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Archive a contact who left the customer: off the page and the surveys, its history kept."""
    customer = changeable_customer(request, pk)
    contact = get_visible_or_404(selectors.contacts_visible_to(request.user), pk=contact_pk, customer=customer)
    services.contact_archive(contact=contact, actor=request.user)
    messages.success(request, _("Contact archived: %(name)s.") % {"name": contact.name})
    return redirect("portfolio:customer", pk=customer.pk)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers(*FRAGMENT_HEADERS)
def opportunity_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A new expansion opportunity; GET: its form, which the page asks for once the panel is opened."""
    customer = changeable_customer(request, pk)
    form = OpportunityForm(posted(request), auto_id="id_opportunity_%s")

    fragment = partial(
        customer_form_page,
        request,
        customer,
        action=reverse("portfolio:opportunity_add", kwargs={"pk": customer.pk}),
        title=_("New opportunity"),
        submit=_("Add opportunity"),
    )

    if request.method == "GET":
        return fragment(form)

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

    return customer_form_post(request, customer, form, form_name="opportunity_form", apply=apply, fragment=fragment)


@login_required
@require_POST
def opportunity_close(request: HttpRequest, pk: int, opportunity_pk: int) -> HttpResponse:
    """Win (the subscription grows: an expansion in the ledger) or lose an expansion opportunity. A form or a
    service refusal re-renders the page with the reason (422) and closes nothing."""
    customer = changeable_customer(request, pk)
    opportunity = get_visible_or_404(
        selectors.opportunities_visible_to(request.user), pk=opportunity_pk, customer=customer
    )
    form = OpportunityCloseForm(
        request.POST, subscriptions=selectors.subscriptions_visible_to(request.user).filter(customer=customer)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["result"] == OpportunityStage.WON:
                services.opportunity_win(
                    opportunity=opportunity,
                    actor=request.user,
                    effective_date=timezone.localdate(),
                    subscription=data["subscription"],
                    product=data["product"],
                )
            else:
                services.opportunity_move(opportunity=opportunity, stage=OpportunityStage.LOST, actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if data["result"] == OpportunityStage.WON:
                messages.success(request, _("Won! The subscription changed and the expansion is in the MRR ledger."))
            else:
                messages.info(request, _("Opportunity marked as lost."))
            return redirect("portfolio:customer", pk=customer.pk)
    # The page lists every opportunity with its own small form: the reason goes in the page's messages.
    reasons = " ".join(
        f"{form.fields[name].label}: {error}" if name in form.fields else str(error)
        for name, errors in form.errors.items()
        for error in errors
    )
    text = _("%(title)s was not closed. %(reasons)s") % {"title": opportunity.title, "reasons": reasons}
    messages.error(request, text)
    return render_customer(request, customer, status=422)
