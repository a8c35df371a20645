"""The survey defaults' Settings page: admins change them, leaders read them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.access import can_change_settings
from accounts.forms import apply_service_errors
from accounts.settings_selectors import setting_changes
from accounts.settings_views import require_settings_reader, settings_context
from surveys.settings_forms import ChiCriterionForm, SurveyDefaultsForm
from surveys.settings_selectors import chi_criteria_all, survey_defaults
from surveys.settings_services import (
    CHI,
    CHI_EFFECT,
    CHI_POSITIONS,
    DEFAULTS_EFFECT,
    SURVEYS,
    chi_criterion_add,
    chi_criterion_save,
    survey_defaults_update,
)


@login_required
def defaults(request: HttpRequest) -> HttpResponse:
    require_settings_reader(request)
    current = survey_defaults()
    initial = {name: getattr(current, name) for name in SurveyDefaultsForm.base_fields}
    form = SurveyDefaultsForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if not can_change_settings(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                survey_defaults_update(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Survey defaults saved. %(effect)s") % {"effect": DEFAULTS_EFFECT})
                return redirect("survey_settings:defaults")
        status = 422
    context = settings_context(
        request,
        "surveys",
        form=form,
        effect=DEFAULTS_EFFECT,
        history=setting_changes(user=request.user, areas=(SURVEYS,)),
    )
    return render(request, "settings/surveys.html", context, status=status)


def _chi_forms(criteria, *, bound=None, new_form=None) -> tuple[list, ChiCriterionForm | None]:
    """A form per criterion (the one just refused keeps what was typed), and one to add a criterion at a free
    position while there are fewer than ten."""
    forms = []
    for criterion in criteria:
        if bound is not None and bound.prefix == f"chi-{criterion.position}":
            forms.append((criterion, bound))
            continue
        initial = {
            "position": criterion.position,
            "text_pt": criterion.text_pt,
            "text_en": criterion.text_en,
            "answered_by": criterion.answered_by,
        }
        forms.append(
            (
                criterion,
                ChiCriterionForm(prefix=f"chi-{criterion.position}", initial=initial, positions=[criterion.position]),
            )
        )
    free = [p for p in CHI_POSITIONS if p not in {c.position for c in criteria}]
    if new_form is None and free:
        new_form = ChiCriterionForm(prefix="new", initial={"position": free[0]}, positions=free)
    return forms, new_form


@login_required
def chi(request: HttpRequest) -> HttpResponse:
    """The CHI criteria (up to ten, each answered yes or no by the customer or the CSM): admins reword them and add
    one at a free position; leaders read them. A refused form re-renders the page with its errors (422)."""
    require_settings_reader(request)
    criteria = chi_criteria_all()
    bound = new_form = None
    status = 200
    if request.method == "POST":
        if not can_change_settings(request.user):
            raise PermissionDenied
        prefix = request.POST.get("prefix", "")
        taken = {c.position for c in criteria}
        if prefix == "new":
            positions = [p for p in CHI_POSITIONS if p not in taken]
        elif prefix.startswith("chi-") and prefix[4:].isdigit() and int(prefix[4:]) in taken:
            positions = [int(prefix[4:])]
        else:
            return redirect("survey_settings:chi")
        form = ChiCriterionForm(request.POST, prefix=prefix, positions=positions)
        if form.is_valid():
            try:
                save = chi_criterion_add if prefix == "new" else chi_criterion_save
                save(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, _("CHI criterion %(position)s saved.") % {"position": form.cleaned_data["position"]}
                )
                return redirect("survey_settings:chi")
        status = 422
        if prefix == "new":
            new_form = form
        else:
            bound = form
    forms, new_form = _chi_forms(criteria, bound=bound, new_form=new_form)
    context = settings_context(
        request,
        "chi",
        forms=forms,
        new_form=new_form,
        effect=CHI_EFFECT,
        history=setting_changes(user=request.user, areas=(CHI,)),
    )
    return render(request, "settings/chi.html", context, status=status)
