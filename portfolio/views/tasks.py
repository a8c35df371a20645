"""My tasks: the list, and a task snoozed or handed over from it (htmx swaps the list, so a row moves group)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_lead, get_visible_or_404
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from core.labels import TASK_ORIGINS
from portfolio import selectors, services
from portfolio.forms import TaskFilterForm, TaskReassignForm, TaskSnoozeForm
from portfolio.views.common import next_or, page_context, require_write

PAGE_SIZE = 25
TEMPLATE = "portfolio/my_tasks.html"


def _page(request: HttpRequest, query: QueryDict, **extra) -> dict:
    """The page's context from its query string (the page's own, or the one a POST carries from it)."""
    user = request.user
    people = selectors.task_people(user)
    form = TaskFilterForm(query or None, people=people, leads=can_lead(user), origins=TASK_ORIGINS.choices(), me=user)
    data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")} if form.is_valid() else {}
    if data.get("tab") not in selectors.TASK_TABS:
        data.pop("tab", None)
    filters = selectors.TaskFilters(**data)
    page = selectors.my_tasks_page(user, filters, page_number=query.get("page"), per_page=PAGE_SIZE, people=people)
    rest = query.copy()
    rest.pop("page", None)
    notab = rest.copy()
    notab.pop("tab", None)
    return page_context(page, form=form, query=rest.urlencode(), query_notab=notab.urlencode(), **extra)


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def my_tasks(request: HttpRequest) -> HttpResponse:
    """Every open task of the person, grouped overdue / today / this week / later; the done ones on their tab."""
    context = _page(request, request.GET)
    return render(request, f"{TEMPLATE}#results" if wants_fragment(request) else TEMPLATE, context)


def _answer(request: HttpRequest, *, done: str = "", error: str = "") -> HttpResponse:
    """htmx: the list again, as the page's filters show it (the row moved group, or the error above it);
    without JavaScript: back to the page with the message."""
    if request.htmx:
        query = QueryDict(request.POST.get("query", ""))
        context = _page(request, query, notice=done, error=error)
        return render(request, f"{TEMPLATE}#results", context, status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(next_or(request, reverse("portfolio:my_tasks")))


def _task(request: HttpRequest, task_pk: int):
    require_write(request)
    return get_visible_or_404(selectors.tasks_visible_to(request.user).select_related("customer"), pk=task_pk)


@login_required
@require_POST
def task_snooze(request: HttpRequest, task_pk: int) -> HttpResponse:
    task = _task(request, task_pk)
    form = TaskSnoozeForm(request.POST)
    if not form.is_valid():
        return _answer(request, error=" ".join(m for errors in form.errors.values() for m in errors))
    days = form.cleaned_data["days"]
    due = services.snooze_date(task, days) if days else form.cleaned_data["due_date"]
    try:
        services.task_snooze(task=task, due_date=due, actor=request.user)
    except ValidationError as exc:
        return _answer(request, error=" ".join(exc.messages))
    when = formats.date_format(due, "SHORT_DATE_FORMAT")
    return _answer(request, done=_("“%(task)s” moved to %(day)s.") % {"task": task.title, "day": when})


@login_required
@require_POST
def task_reassign(request: HttpRequest, task_pk: int) -> HttpResponse:
    task = _task(request, task_pk)
    form = TaskReassignForm(request.POST, people=selectors.task_assignees(request.user))
    if not form.is_valid():
        return _answer(request, error=_("Choose who takes the task."))
    to = form.cleaned_data["owner"]
    try:
        services.task_reassign(task=task, to=to, actor=request.user)
    except ValidationError as exc:
        return _answer(request, error=" ".join(exc.messages))
    return _answer(request, done=_("“%(task)s” handed over to %(name)s.") % {"task": task.title, "name": to})
