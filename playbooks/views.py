"""The playbook pages: the list, a playbook (its versions, runs under way, and for leaders and admins the
editor), the preview on a real customer, starting by hand (one customer or a selection) and a run."""

from smtplib import SMTPException

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_author_playbooks, can_edit_playbooks, can_write
from accounts.models import Team
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from playbooks import mailing, selectors, services
from playbooks.forms import STEP_FORMS, PlaybookForm, StartForm, step_forms
from portfolio.forms import BulkSelectionForm
from portfolio.selectors import customer_get, customers_visible_to
from portfolio.views.common import next_or


def _teams_for(user) -> object:
    """Who a playbook may belong to: admins choose any team (or none, company-wide); leaders their own."""
    if user.is_admin:
        return Team.objects.all()
    return Team.objects.filter(pk=user.team_id)


@login_required
def playbook_list(request: HttpRequest) -> HttpResponse:
    page = selectors.playbook_list(request.user)
    return render(request, "playbooks/list.html", {"page": page, "nav_current": "playbooks"})


@login_required
def playbook_create(request: HttpRequest) -> HttpResponse:
    if not can_author_playbooks(request.user):
        raise PermissionDenied
    form = PlaybookForm(
        request.POST or None,
        teams=_teams_for(request.user),
        initial={"team": request.user.team_id, "cooldown_days": 30, "trigger_kind": "manual"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            playbook = services.playbook_create(
                name=data["name"],
                description=data["description"],
                team=data.get("team"),
                cooldown_days=data["cooldown_days"],
                actor=request.user,
                **form.version_fields(),
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error("team" if isinstance(exc, PermissionDenied) else None, str(exc) or _("Not allowed."))
        else:
            return redirect("playbooks:detail", pk=playbook.pk)
    return render(
        request, "playbooks/form.html", {"form": form, "nav_current": "playbooks"}, status=422 if form.errors else 200
    )


def _detail_context(request: HttpRequest, playbook, *, settings_form=None, bound_step=None) -> dict:
    page = selectors.playbook_page(request.user, playbook)
    version = page.draft or page.live
    return {
        "page": page,
        "playbook": playbook,
        "trigger": selectors.trigger_text(page.live),
        "draft_trigger": selectors.trigger_text(page.draft),
        "settings_form": settings_form or PlaybookForm(initial=PlaybookForm.initial_from(playbook, version)),
        "step_forms": step_forms(bound_step),
        "email_cap": settings.LEME_PLAYBOOK_EMAIL_CAP,
        "email_window": mailing.send_window().describe(),
        "nav_current": "playbooks",
    }


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def playbook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = selectors.playbook_get(request.user, pk)
    return render(request, "playbooks/detail.html", _detail_context(request, playbook))


def _editable(request: HttpRequest, pk: int):
    playbook = selectors.playbook_get(request.user, pk)
    if not can_write(request.user) or not can_edit_playbooks(request.user, playbook.team_id):
        raise PermissionDenied
    return playbook


def _editor(request: HttpRequest, playbook, *, status: int = 200, **context) -> HttpResponse:
    """The editor's fragment for htmx, or the whole page after a plain POST."""
    if wants_fragment(request):
        return render(
            request, "playbooks/detail.html#editor", _detail_context(request, playbook, **context), status=status
        )
    if status >= 400:
        return render(request, "playbooks/detail.html", _detail_context(request, playbook, **context), status=status)
    return redirect(reverse("playbooks:detail", args=[playbook.pk]) + "#editor")


@login_required
@require_POST
def playbook_settings(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = _editable(request, pk)
    form = PlaybookForm(request.POST)
    if not form.is_valid():
        return _editor(request, playbook, status=422, settings_form=form)
    data = form.cleaned_data
    services.playbook_update(
        playbook=playbook,
        actor=request.user,
        name=data["name"],
        description=data["description"],
        cooldown_days=data["cooldown_days"],
        **form.version_fields(),
    )
    return _editor(request, playbook)


@login_required
@require_POST
def step_add(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = _editable(request, pk)
    kind = request.POST.get("kind", "")
    if kind not in STEP_FORMS:
        return HttpResponse(_("Choose what kind of step this is."), status=400)
    form = STEP_FORMS[kind](request.POST, prefix=kind)
    if not form.is_valid():
        return _editor(request, playbook, status=422, bound_step=form)
    services.step_add(playbook=playbook, actor=request.user, step={"kind": kind, **form.cleaned_data})
    return _editor(request, playbook)


@login_required
@require_POST
def step_remove(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    playbook = _editable(request, pk)
    services.step_remove(playbook=playbook, actor=request.user, index=index)
    return _editor(request, playbook)


@login_required
@require_POST
def step_test_send(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """Send the step's email to the person editing, in the language they use Leme in."""
    playbook = _editable(request, pk)
    try:
        address = services.email_step_test_send(
            playbook=playbook, index=index, actor=request.user, language=get_language() or settings.LANGUAGE_CODE
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except (OSError, SMTPException):
        messages.error(request, _("The test could not be sent: the email server did not take it. Try again later."))
    else:
        messages.success(request, _("Test sent to %(email)s.") % {"email": address})
    return redirect(reverse("playbooks:detail", args=[playbook.pk]) + "#editor")


@login_required
@require_POST
def step_move(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    playbook = _editable(request, pk)
    services.step_move(playbook=playbook, actor=request.user, index=index, up=request.POST.get("direction") != "down")
    return _editor(request, playbook)


def _act(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    playbook = _editable(request, pk)
    try:
        action(playbook=playbook, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("playbooks:detail", pk=playbook.pk)


@login_required
@require_POST
def playbook_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.version_publish, _("Published: new runs start with this version."))


@login_required
@require_POST
def playbook_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.playbook_pause, _("Paused: its runs wait where they stand."))


@login_required
@require_POST
def playbook_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.playbook_resume, _("Active: its runs carry on from where they stood."))


@login_required
def playbook_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick one of your customers and see what the draft would do to them; nothing is written."""
    playbook = selectors.playbook_get(request.user, pk)
    query = (request.GET.get("q") or "").strip()[:100]
    customers = customers_visible_to(request.user).order_by("name")
    if query:
        customers = customers.filter(name__icontains=query)
    customer_pk = request.GET.get("customer") or ""
    preview = None
    if customer_pk:
        if not customer_pk.isdigit():
            raise Http404
        preview = selectors.preview(request.user, playbook, int(customer_pk))
    context = {
        "playbook": playbook,
        "customers": customers.only("pk", "name")[:50],
        "q": query,
        "preview": preview,
        "nav_current": "playbooks",
    }
    return render(request, "playbooks/preview.html", context)


@login_required
@require_POST
def run_start(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Start a playbook by hand on one customer (the customer page's panel)."""
    customer = customer_get(request.user, customer_pk, to_change=True)
    form = StartForm(request.POST, playbooks=selectors.playbooks_visible_to(request.user))
    if not form.is_valid():
        messages.error(request, _("Choose a playbook to start."))
    else:
        try:
            run = services.run_start(playbook=form.cleaned_data["playbook"], customer=customer, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("%(playbook)s started on %(customer)s.") % {"playbook": run.playbook, "customer": customer}
            )
    return redirect(reverse("portfolio:customer", args=[customer.pk]) + "#playbook-runs")


@login_required
@require_POST
def runs_start_bulk(request: HttpRequest) -> HttpResponse:
    """Start a playbook on the customers ticked in the portfolio list (scoped again here)."""
    if not can_write(request.user):
        raise PermissionDenied
    form = StartForm(request.POST, playbooks=selectors.playbooks_visible_to(request.user))
    # The ticked customers, or every customer the list's filters match ("select all matching"), scoped again.
    selection = BulkSelectionForm(request.POST, user=request.user)
    if not form.is_valid() or not selection.is_valid():
        why = " ".join(selection.non_field_errors()) if form.is_valid() else ""
        messages.error(request, why or _("Tick the customers and choose the playbook to start."))
    else:
        started, skipped = services.runs_start_bulk(
            playbook=form.cleaned_data["playbook"], customers=selection.cleaned_data["selection"], actor=request.user
        )
        messages.success(
            request,
            _("%(playbook)s: started on %(started)s, skipped %(skipped)s (not in its audience, or cooling down).")
            % {"playbook": form.cleaned_data["playbook"], "started": started, "skipped": skipped},
        )
    return redirect(next_or(request, reverse("portfolio:list")))


@login_required
def run_detail(request: HttpRequest, run_pk: int) -> HttpResponse:
    page = selectors.run_page(request.user, run_pk)
    context = {"page": page, "run": page.run, "cap": settings.LEME_PLAYBOOK_EMAIL_CAP, "nav_current": "playbooks"}
    return render(request, "playbooks/run.html", context)
