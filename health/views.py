from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import can_import
from health.forms import UsageImportForm
from health.imports import OPTIONAL, REQUIRED, usage_import_run
from portfolio.import_flow import import_step

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
