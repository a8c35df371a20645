"""The CSM's side of the Customer Happiness Index: the customers of a CHI campaign the user may change, with
both parts of their score, and a page per customer to answer the criteria answered by the CSM. The rules live
in surveys.services_chi and surveys.selectors_chi."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.access import can_write, get_visible_or_404
from core.text import end_sentence
from surveys import answers, selectors, selectors_chi, services_chi
from surveys.models import Campaign, ChiCriterion, SurveyKind
from surveys.views import _kinds


def _chi_campaign(request: HttpRequest, pk: int) -> Campaign:
    """A CHI campaign the user sees; answering its CSM criteria is for those who may change data."""
    campaign = get_visible_or_404(selectors.campaigns_visible_to(request.user), pk=pk)
    if campaign.kind != SurveyKind.CHI:
        raise Http404
    if not can_write(request.user):
        raise PermissionDenied
    return campaign


def _text(criterion: ChiCriterion) -> str:
    return criterion.text_en if (get_language() or "").startswith("en") else criterion.text_pt


@login_required
def chi_customers(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _chi_campaign(request, pk)
    rows = selectors_chi.chi_customer_rows(request.user, campaign)
    context = {
        "campaign": campaign,
        "rows": rows,
        "waiting": sum(1 for row in rows if row.csm_part is None),
        "kinds": _kinds(request.user),
        "tab": "campaigns",
    }
    return render(request, "surveys/chi_customers.html", context)


@login_required
def chi_assess(request: HttpRequest, pk: int, customer_pk: int) -> HttpResponse:
    campaign = _chi_campaign(request, pk)
    customer = get_visible_or_404(selectors_chi.chi_audience_customers(request.user, campaign), pk=customer_pk)
    criteria = services_chi.csm_criteria()
    assessment = selectors_chi.chi_assessment_of(request.user, campaign, customer)
    answer = selectors_chi.chi_customer_part(request.user, campaign, customer)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        given = {str(c.position): request.POST.get(f"chi-{c.position}", "") for c in criteria}
        try:
            services_chi.chi_assessment_record(campaign=campaign, customer=customer, answers=given, actor=request.user)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(
                request, end_sentence(_("CSM criteria saved for %(customer)s.") % {"customer": customer.name})
            )
            return redirect("surveys:chi_customers", pk=campaign.pk)
        selected = {p: v for p, v in given.items() if v in ("yes", "no")}
    else:
        saved = assessment.answers if assessment else {}
        selected = {p: "yes" if v else "no" for p, v in saved.items()}
    customer_criteria = answers.chi_criteria()
    context = {
        "campaign": campaign,
        "customer": customer,
        "assessment": assessment,
        "answer": answer,
        "total": (answer.score if answer else 0) + (assessment.score if assessment else 0),
        "criteria": [
            {
                "position": c.position,
                "text": _text(c),
                "selected": selected.get(str(c.position), ""),
                "error": (errors.get(f"chi-{c.position}") or [""])[0],
            }
            for c in criteria
        ],
        "customer_criteria": [
            {"text": _text(c), "answer": (answer.chi_answers.get(str(c.position)) if answer else None)}
            for c in customer_criteria
        ],
        "form_errors": [m for key, msgs in errors.items() if not key.startswith("chi-") for m in msgs],
        "has_errors": bool(errors),
        "kinds": _kinds(request.user),
        "tab": "campaigns",
    }
    return render(request, "surveys/chi_assess.html", context, status=422 if errors else 200)
