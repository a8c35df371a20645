"""My day, and the task done from it (or from the customer page)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import get_visible_or_404
from portfolio import selectors, services
from portfolio.views.common import next_or, require_write


@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    """The CSM's home: what needs them today and why. The cards the apps above load after the page shows come
    from their own views (``core.panels.DayPanel.url_name``)."""
    return render(request, "portfolio/my_day.html", selectors.my_day(request.user, defer_panels=True))


@login_required
@require_POST
def task_complete(request: HttpRequest, task_pk: int) -> HttpResponse:
    require_write(request)
    task = get_visible_or_404(selectors.tasks_visible_to(request.user).select_related("customer"), pk=task_pk)
    services.task_complete(task=task, actor=request.user)
    if request.htmx:
        return render(request, "portfolio/my_day.html#task-done", {"task": task})
    return redirect(next_or(request, reverse("portfolio:customer", args=[task.customer_id])))
