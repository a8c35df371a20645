"""The two steps of every CSV import page: upload (each row checked, nothing written, the file kept in the
session) and confirm (all rows written, or none and the rows to fix). Used by the portfolio import and the
eNPS employee list."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portfolio.imports import JOB_ROWS, ImportFailed, ImportReport


@dataclass
class ImportStep:
    """What the page shows: the form, the row-by-row report and the status; or where to go (``done``)."""

    form: forms.Form
    report: ImportReport | None = None
    status: int = 200
    done: HttpResponse | None = None


def import_step(
    request: HttpRequest,
    *,
    form_class: type[forms.Form],
    session_key: str,
    upload: Callable[[dict], object],
    run: Callable[..., ImportReport],
    page: str,
    start_job: Callable[[object, int], HttpResponse] | None = None,
) -> ImportStep:
    """``upload(cleaned_data)`` gives what the session keeps between the steps; ``run(kept, commit=…)`` checks
    or writes it (raising ImportFailed when a commit finds errors); ``page`` is the URL name to return to.
    ``start_job(kept, rows)``, where given, takes a confirmed file of more than ``JOB_ROWS`` rows to a background
    job and answers where to follow it: a request never writes thousands of rows."""
    rows_key = f"{session_key}:rows"
    if request.method == "POST" and request.POST.get("confirm"):
        kept = request.session.get(session_key)
        if not kept:
            messages.error(request, _("Nothing to import: upload the file again."))
            return ImportStep(form=form_class(), done=redirect(page))
        rows = request.session.get(rows_key, 0)
        if start_job is not None and rows > JOB_ROWS:
            del request.session[session_key]
            return ImportStep(form=form_class(), done=start_job(kept, rows))
        try:
            report = run(kept, commit=True)
        except ImportFailed as exc:
            messages.error(request, _("Nothing was imported: fix the rows below and upload again."))
            return ImportStep(form=form_class(), report=exc.report, status=422)
        del request.session[session_key]
        messages.success(
            request,
            _("Imported: %(c)s created, %(u)s updated, %(n)s unchanged.")
            % {"c": report.count("create"), "u": report.count("update"), "n": report.count("unchanged")},
        )
        return ImportStep(form=form_class(), report=report, done=redirect(page))
    if request.method != "POST":
        return ImportStep(form=form_class())
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        return ImportStep(form=form, status=422)
    kept = upload(form.cleaned_data)
    report = run(kept, commit=False)
    if not report.ok:
        request.session.pop(session_key, None)
        return ImportStep(form=form, report=report, status=422)
    request.session[session_key] = kept
    request.session[rows_key] = len(report.rows)
    return ImportStep(form=form, report=report)
