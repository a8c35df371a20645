"""Survey pages: campaigns (list, create, start, close), and results per campaign and per kind. Views parse
input, call a selector or a service, and render; the rules live in the services (surveys.services,
surveys.employees) and the reads (surveys.selectors, surveys.results, surveys.campaign_counts, surveys.comments,
surveys.exports); who may do what in accounts.access."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import can_manage_campaigns, can_read_enps, get_visible_or_404
from accounts.forms import apply_service_errors
from accounts.selectors import owner_candidates
from core.csvfiles import csv_response
from core.htmx import FRAGMENT_HEADERS, wants_fragment
from portfolio.import_flow import import_step
from surveys import campaign_counts, employees, selectors, services
from surveys.audience import employees_audience
from surveys.comments import CommentFilters, comment_owners, comments
from surveys.exports import export_rows
from surveys.forms import CampaignFilterForm, CampaignForm, CommentFilterForm, EmployeeImportForm, OverviewForm
from surveys.models import Campaign, CampaignStatus, EmployeeAudience, SkipReason, SurveyKind
from surveys.planning import plan_preview
from surveys.results import Results, survey_results
from surveys.scoring import bands_for
from surveys.selectors import Scope

SHORT_LABELS = {SurveyKind.CHI: "CHI"}


def _kinds(user) -> list[tuple[str, str]]:
    """The result tabs the user may open (eNPS for admins and leaders only)."""
    return [
        (kind, SHORT_LABELS.get(kind, label))
        for kind, label in SurveyKind.choices
        if kind != SurveyKind.ENPS or can_read_enps(user)
    ]


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    return get_visible_or_404(selectors.campaigns_visible_to(request.user).select_related("created_by", "team"), pk=pk)


def _managed_campaign(request: HttpRequest, pk: int) -> Campaign:
    """A campaign the user may change: another team's is a 404; a company-wide one a leader sees but may not
    change is a 403."""
    campaign = _campaign(request, pk)
    if not selectors.campaigns_managed_by(request.user).filter(pk=campaign.pk).exists():
        raise PermissionDenied
    return campaign


# --- Campaigns -------------------------------------------------------------------------------------------


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def campaign_list(request: HttpRequest) -> HttpResponse:
    form = CampaignFilterForm(request.GET or None)
    kind = status = ""
    if form.is_valid():
        kind, status = form.cleaned_data["kind"], form.cleaned_data["status"]
    context = {
        "form": form,
        "rows": campaign_counts.campaign_list(request.user, kind=kind, status=status),
        "can_manage": can_manage_campaigns(request.user),
        "kinds": _kinds(request.user),
        "tab": "campaigns",
    }
    template = "surveys/campaign_list.html#campaigns" if wants_fragment(request) else "surveys/campaign_list.html"
    return render(request, template, context)


def _people_for(user):
    """Whom an audience may name: anyone who owns customers for admins, the overseen teams' for leaders."""
    return owner_candidates(user).order_by("full_name")


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def campaign_create(request: HttpRequest) -> HttpResponse:
    if not can_manage_campaigns(request.user):
        raise PermissionDenied
    people = _people_for(request.user)
    if wants_fragment(request) and request.method == "GET" and request.GET.get("kind") in SurveyKind.values:
        # The kind changed: the standard questions follow it, questions someone wrote stay.
        kind = request.GET["kind"]
        asked = CampaignForm(request.GET, owners=people, user=request.user)
        form = CampaignForm(owners=people, user=request.user, initial={"kind": kind, **asked.questions_for(kind)})
        return render(request, "surveys/campaign_form.html#questions", {"form": form})
    initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") in SurveyKind.values else {}
    form = CampaignForm(request.POST or None, owners=people, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(actor=request.user, **form.service_arguments())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Campaign created as a draft. Start it when it is ready."))
            return redirect("surveys:campaign", pk=campaign.pk)
    context = {"form": form, "kinds": _kinds(request.user), "tab": "campaigns"}
    return render(request, "surveys/campaign_form.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def campaign_activate(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _managed_campaign(request, pk)
    try:
        services.campaign_activate(
            campaign=campaign,
            actor=request.user,
            confirm_short_fatigue=request.POST.get("confirm_short_fatigue") == "on",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s is active.") % {"name": campaign.name})
    return redirect("surveys:campaign", pk=campaign.pk)


@login_required
@require_POST
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _managed_campaign(request, pk)
    try:
        services.campaign_close(campaign=campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("%(name)s is closed: nothing more is sent and its links stop working.") % {"name": campaign.name}
        )
    return redirect("surveys:campaign", pk=campaign.pk)


# --- Results ---------------------------------------------------------------------------------------------


def _comments_context(request: HttpRequest, scope: Scope, results: Results | None = None) -> dict:
    user = request.user
    owners = [] if scope.kind == SurveyKind.ENPS else comment_owners(user, scope, results)
    bands = bands_for(scope.kind, scope.scale_top)
    form = CommentFilterForm(request.GET, bands=bands, owners=owners)
    filters, page = CommentFilters(), 1
    if form.is_valid():
        data = form.cleaned_data
        filters = CommentFilters(
            band=data["band"], segment=data["segment"], owner=data["owner"], waiting=data["waiting"]
        )
        page = data["page"] or 1
    query = request.GET.copy()
    for key in ("page", "partial"):
        query.pop(key, None)
    return {
        "comment_form": form,
        "comment_page": comments(user, scope, filters, page=page),
        "comment_query": query.urlencode(),
        "anonymous": scope.kind == SurveyKind.ENPS,
    }


def _comments_partial(request: HttpRequest, scope: Scope, context: dict) -> HttpResponse | None:
    """htmx asks for the comments alone: the whole card when the filters change, more rows for "more"."""
    partial = request.GET.get("partial")
    if not wants_fragment(request) or partial not in ("comments", "comment-rows"):
        return None
    return render(request, f"surveys/_results.html#{partial}", {**context, **_comments_context(request, scope)})


def _start_preview(campaign: Campaign) -> dict:
    """Before a draft starts: whom its first round would email and whom it would skip, by rule, planned by
    the same code that plans the round but writing nothing; and whether its fatigue rule needs confirming."""
    preview = plan_preview(campaign)
    return {
        "preview": preview,
        "preview_skipped": (
            [(SkipReason(code).label, n) for code, n in sorted(preview.skipped.items()) if n] if preview else []
        ),
        "short_fatigue": services.fatigue_below_workspace(campaign),
        "workspace_fatigue_days": settings.LEME_SURVEY_FATIGUE_DAYS,
    }


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    scope = Scope.of_campaign(campaign)
    base = {"campaign": campaign, "results_url": request.path}
    partial = _comments_partial(request, scope, base)
    if partial is not None:
        return partial
    results = survey_results(request.user, scope)
    can_manage = selectors.campaigns_managed_by(request.user).filter(pk=campaign.pk).exists()
    context = {
        **base,
        **_comments_context(request, scope, results),
        **(_start_preview(campaign) if can_manage and campaign.status == CampaignStatus.DRAFT else {}),
        "results": results,
        "counts": campaign_counts.delivery_counts(request.user, campaign),
        "skipped": campaign_counts.skipped_deliveries(request.user, campaign),
        "can_manage": can_manage,
        "kinds": _kinds(request.user),
        "tab": "campaigns",
        "Status": CampaignStatus,
        "employees_audience": (
            EmployeeAudience(employees_audience(campaign)).label if campaign.kind == SurveyKind.ENPS else ""
        ),
    }
    return render(request, "surveys/campaign_detail.html", context)


def _month_start(months_back: int) -> datetime:
    first = timezone.localdate().replace(day=1)
    for _i in range(months_back):
        first = (first - timedelta(days=1)).replace(day=1)
    return timezone.make_aware(datetime.combine(first, time.min))


def _overview_scope(request: HttpRequest, kind: str) -> tuple[OverviewForm, Scope, int]:
    if kind not in SurveyKind.values or (kind == SurveyKind.ENPS and not can_read_enps(request.user)):
        raise Http404
    form = OverviewForm(request.GET or None)
    months, scale = 12, None
    if form.is_valid():
        months = form.cleaned_data["months"] or 12
        scale = form.cleaned_data["scale"]
    if kind == SurveyKind.CSAT and scale is None:
        scale = selectors.csat_default_scale(request.user)
        data = request.GET.copy()
        data["scale"] = str(scale)
        data["months"] = str(months)
        form = OverviewForm(data)
        form.is_valid()
    return form, Scope.of_kind(kind, since=_month_start(months - 1), scale=scale), months


@login_required
@vary_on_headers(*FRAGMENT_HEADERS)
def overview(request: HttpRequest, kind: str) -> HttpResponse:
    """Every campaign of a kind together, over a period."""
    form, scope, months = _overview_scope(request, kind)
    base = {"results_url": request.path}
    partial = _comments_partial(request, scope, base)
    if partial is not None:
        return partial
    results = survey_results(request.user, scope, months=months)
    context = {
        **base,
        **_comments_context(request, scope, results),
        "form": form,
        "kind": kind,
        "kind_label": SurveyKind(kind).label,
        "results": results,
        "campaigns": campaign_counts.campaign_list(request.user, kind=kind),
        "kinds": _kinds(request.user),
        "tab": kind,
        "months": months,
    }
    return render(request, "surveys/overview.html", context)


# --- CSV -------------------------------------------------------------------------------------------------


def _csv(request: HttpRequest, scope: Scope, name: str) -> StreamingHttpResponse:
    filename = f"{slugify(name) or 'survey'}-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(export_rows(request.user, scope), filename)


@login_required
def campaign_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    campaign = _campaign(request, pk)
    return _csv(request, Scope.of_campaign(campaign), campaign.name)


@login_required
def overview_export(request: HttpRequest, kind: str) -> StreamingHttpResponse:
    _form, scope, _months = _overview_scope(request, kind)
    return _csv(request, scope, f"{kind}-responses")


# --- Employees who do not use Leme (eNPS) ----------------------------------------------------------------

EMPLOYEE_IMPORT_SESSION_KEY = "surveys_employee_import"
EMPLOYEE_PAGE_SIZE = 50


@login_required
def employee_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview every row (nothing written) → confirm → all rows or none, like the portfolio import."""
    if not can_manage_campaigns(request.user):
        raise PermissionDenied
    step = import_step(
        request,
        form_class=EmployeeImportForm,
        session_key=EMPLOYEE_IMPORT_SESSION_KEY,
        upload=lambda data: data["file"],
        run=lambda text, commit: employees.employee_import(text=text, actor=request.user, commit=commit),
        page="surveys:employees",
    )
    if step.done:
        return step.done
    counts = employees.recipient_counts(request.user)
    paginator = Paginator(employees.recipients_listed(request.user), EMPLOYEE_PAGE_SIZE)
    paginator.count = counts["active"] + counts["inactive"]  # already counted for the stats: one COUNT, not two
    context = {
        "form": step.form,
        "report": step.report,
        "counts": counts,
        "people": paginator.get_page(request.GET.get("page")),
        "kinds": _kinds(request.user),
        "tab": "campaigns",
    }
    return render(request, "surveys/employees_import.html", context, status=step.status)
