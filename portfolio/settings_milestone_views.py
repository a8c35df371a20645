"""The onboarding milestones' Settings page: each service model's milestone templates in both languages, added,
renamed, reordered, retired and restored by admins, read by leaders (accounts.access); the services check it
again and record every change in the history. Forms sent by htmx get the page's main part back (422 with the
reasons beside the fields)."""

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
from portfolio import settings_milestone_services as services
from portfolio.models import MilestoneTemplate
from portfolio.settings_milestone_forms import MilestoneTemplateForm, NewMilestoneTemplateForm
from portfolio.settings_milestone_selectors import milestone_templates_by_service_model

PAGE = "journey_settings:milestones"
TEMPLATE = "settings/milestones.html"


def _page(request: HttpRequest, *, new_form=None, bound=None, status: int = 200) -> HttpResponse:
    """The page, or its main part for htmx; ``bound`` is a milestone's edit form sent back with its errors."""

    def form_for(template: MilestoneTemplate) -> MilestoneTemplateForm:
        if bound is not None and bound.prefix == f"m{template.pk}":
            return bound
        return MilestoneTemplateForm.for_template(template)

    service_models = [
        {"value": value, "label": label, "rows": [{"template": t, "form": form_for(t)} for t in templates]}
        for value, label, templates in milestone_templates_by_service_model()
    ]
    context = settings_context(
        request,
        "milestones",
        service_models=service_models,
        new_form=new_form or NewMilestoneTemplateForm(),
        effect=services.MILESTONE_TEMPLATES_EFFECT,
        history=setting_changes(user=request.user, areas=(services.MILESTONES,)),
    )
    name = f"{TEMPLATE}#milestones" if request.htmx else TEMPLATE
    return render(request, name, context, status=status)


def _done(request: HttpRequest, message: str) -> HttpResponse:
    """After a change: the page again (htmx: its main part, with the message), never a form to resend."""
    messages.success(request, message)
    if request.htmx:
        return _page(request)
    return redirect(PAGE)


def _posted_template(request: HttpRequest) -> MilestoneTemplate:
    require_settings_reader(request)
    if not can_change_settings(request.user):
        raise PermissionDenied
    template_id = request.POST.get("template", "")
    return get_object_or_404(MilestoneTemplate, pk=template_id if template_id.isdigit() else 0)


@login_required
@vary_on_headers("HX-Request")
def milestones(request: HttpRequest) -> HttpResponse:
    """Each service model's onboarding milestones; a new one (admins) is added at the end of its service model."""
    require_settings_reader(request)
    if request.method != "POST":
        return _page(request)
    if not can_change_settings(request.user):
        raise PermissionDenied
    form = NewMilestoneTemplateForm(request.POST)
    if form.is_valid():
        try:
            template = services.milestone_template_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _done(request, _("Milestone “%(milestone)s” added.") % {"milestone": template})
    return _page(request, new_form=form, status=422)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def milestone_template_edit(request: HttpRequest) -> HttpResponse:
    template = _posted_template(request)
    form = MilestoneTemplateForm.for_template(template, request.POST)
    if form.is_valid():
        try:
            services.milestone_template_edit(template=template, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _done(request, _("Milestone saved: customers who enter onboarding from now on get it this way."))
    return _page(request, bound=form, status=422)


def _template_action(request: HttpRequest, action, done: str, **kwargs) -> HttpResponse:
    template = _posted_template(request)
    try:
        template = action(template=template, actor=request.user, **kwargs)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _page(request, status=422)
    return _done(request, done % {"milestone": template})


@login_required
@require_POST
@vary_on_headers("HX-Request")
def milestone_template_move(request: HttpRequest) -> HttpResponse:
    up = request.POST.get("direction") == "up"
    return _template_action(request, services.milestone_template_move, _("“%(milestone)s” moved."), up=up)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def milestone_template_retire(request: HttpRequest) -> HttpResponse:
    return _template_action(
        request,
        services.milestone_template_retire,
        _("“%(milestone)s” retired: customers who enter onboarding from now on do not get it."),
    )


@login_required
@require_POST
@vary_on_headers("HX-Request")
def milestone_template_restore(request: HttpRequest) -> HttpResponse:
    return _template_action(
        request,
        services.milestone_template_restore,
        _("“%(milestone)s” restored: customers who enter onboarding from now on get it."),
    )
