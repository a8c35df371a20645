"""The journey's Settings pages: service-model policies and the churn reason taxonomy. Admins change them, leaders
read them (accounts.access); the services check it again and record every change."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_change_settings
from accounts.forms import apply_service_errors
from accounts.settings_selectors import setting_changes
from accounts.settings_views import require_settings_reader, settings_context
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from portfolio import settings_selectors as selectors
from portfolio import settings_services as services
from portfolio.models import ChurnCategory, ChurnReason, ServiceModel
from portfolio.settings_forms import ChurnCategoryForm, ChurnReasonForm, PolicyForm


def _require_changer(request: HttpRequest) -> None:
    if not can_change_settings(request.user):
        raise PermissionDenied


# --- Journey policies ------------------------------------------------------------------------------------------


def _policy_cards(rows, bound: dict | None = None) -> list[dict]:
    bound = bound or {}
    return [{"row": row, "form": bound.get(row.service_model) or PolicyForm.for_policy(row.policy)} for row in rows]


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def policies(request: HttpRequest) -> HttpResponse:
    """Each service model's journey policy, one form each; a saved change says what it affects and joins the
    history. htmx swaps the one card (422 with its errors); without JavaScript the page reloads."""
    require_settings_reader(request)
    rows = selectors.policies_by_service_model()
    bound: dict[str, PolicyForm] = {}
    saved = None
    status = 200
    if request.method == "POST":
        _require_changer(request)
        service_model = request.POST.get("service_model", "")
        row = next((r for r in rows if r.service_model == service_model), None)
        if row is None:
            messages.error(request, _("Pick a service model."))
            return redirect("journey_settings:policies")
        form = PolicyForm.for_policy(row.policy, request.POST)
        if form.is_valid():
            try:
                services.policy_update(service_model=service_model, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
        if form.errors:
            status = 422
            bound[service_model] = form
        else:
            label = ServiceModel(service_model).label
            if not wants_fragment(request):
                messages.success(request, _("%(model)s policy saved.") % {"model": label})
                return redirect("journey_settings:policies")
            rows = selectors.policies_by_service_model()
            saved = service_model
    cards = _policy_cards(rows, bound)
    context = settings_context(
        request,
        "journey",
        cards=cards,
        saved=saved,
        history=setting_changes(user=request.user, areas=(services.JOURNEY,)),
    )
    if request.method == "POST" and wants_fragment(request):
        context["card"] = next(c for c in cards if c["row"].service_model == request.POST["service_model"])
        return render(request, "settings/policies.html#policy-answer", context, status=status)
    return render(request, "settings/policies.html", context, status=status)


# --- The churn reason taxonomy ------------------------------------------------------------------------------------


def _taxonomy_page(request: HttpRequest, *, reason_form=None, category_form=None, status: int = 200) -> HttpResponse:
    context = settings_context(
        request,
        "churn_reasons",
        categories=selectors.churn_taxonomy(),
        reason_form=reason_form or ChurnReasonForm(),
        category_form=category_form or ChurnCategoryForm(),
        history=setting_changes(user=request.user, areas=(services.CHURN_REASONS,)),
    )
    return render(request, "settings/churn_reasons.html", context, status=status)


@login_required
def churn_reasons(request: HttpRequest) -> HttpResponse:
    """The churn reason taxonomy: categories and their reasons, how many requests name each, and (admins) a new
    reason; retired reasons stay listed, marked."""
    require_settings_reader(request)
    if request.method != "POST":
        return _taxonomy_page(request)
    _require_changer(request)
    form = ChurnReasonForm(request.POST)
    if form.is_valid():
        try:
            reason = services.churn_reason_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Reason “%(reason)s” added.") % {"reason": reason})
            return redirect("journey_settings:churn_reasons")
    return _taxonomy_page(request, reason_form=form, status=422)


@login_required
@require_POST
def churn_category_add(request: HttpRequest) -> HttpResponse:
    require_settings_reader(request)
    _require_changer(request)
    form = ChurnCategoryForm(request.POST)
    if form.is_valid():
        try:
            category = services.churn_category_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Category “%(category)s” added.") % {"category": category})
            return redirect("journey_settings:churn_reasons")
    return _taxonomy_page(request, category_form=form, status=422)


def _taxonomy_action(request: HttpRequest, field: str, rows, action, done: str) -> HttpResponse:
    """A retire / restore / delete button of the churn taxonomy: ``field`` names the posted id, the service's
    argument and the message's placeholder ("category" or "reason"); a refusal re-renders the page (422)."""
    require_settings_reader(request)
    _require_changer(request)
    posted = request.POST.get(field, "")
    row = get_object_or_404(rows, pk=posted if posted.isdigit() else 0)
    try:
        action(**{field: row}, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _taxonomy_page(request, status=422)
    messages.success(request, done % {field: row})
    return redirect("journey_settings:churn_reasons")


def _category_action(request: HttpRequest, action, done: str) -> HttpResponse:
    return _taxonomy_action(request, "category", ChurnCategory.objects.all(), action, done)


@login_required
@require_POST
def churn_category_retire(request: HttpRequest) -> HttpResponse:
    return _category_action(
        request,
        services.churn_category_retire,
        _("“%(category)s” retired: new churn requests no longer offer its reasons."),
    )


@login_required
@require_POST
def churn_category_restore(request: HttpRequest) -> HttpResponse:
    return _category_action(
        request, services.churn_category_restore, _("“%(category)s” is offered again in new churn requests.")
    )


def _reason_action(request: HttpRequest, action, done: str) -> HttpResponse:
    return _taxonomy_action(request, "reason", ChurnReason.objects.select_related("category"), action, done)


@login_required
@require_POST
def churn_reason_retire(request: HttpRequest) -> HttpResponse:
    return _reason_action(
        request, services.churn_reason_retire, _("“%(reason)s” retired: new churn requests no longer offer it.")
    )


@login_required
@require_POST
def churn_reason_restore(request: HttpRequest) -> HttpResponse:
    return _reason_action(
        request, services.churn_reason_restore, _("“%(reason)s” is offered again in new churn requests.")
    )


@login_required
@require_POST
def churn_reason_delete(request: HttpRequest) -> HttpResponse:
    return _reason_action(request, services.churn_reason_delete, _("“%(reason)s” deleted."))
