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
from surveys.settings_forms import SurveyDefaultsForm
from surveys.settings_selectors import survey_defaults
from surveys.settings_services import DEFAULTS_EFFECT, SURVEYS, survey_defaults_update


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
