"""The success-review template's Settings page: each part's questions in both languages, edited, reordered,
retired and added by admins, read by leaders (accounts.access); the services check it again and record every
change in the history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import can_change_settings
from accounts.forms import apply_service_errors
from accounts.settings_selectors import setting_changes
from accounts.settings_views import require_settings_reader, settings_context
from portfolio import settings_review_services as services
from portfolio.models import ReviewTemplateQuestion
from portfolio.settings_review_forms import NewReviewQuestionForm, ReviewQuestionForm
from portfolio.settings_review_selectors import review_template

PAGE = "journey_settings:reviews"


def _page(request: HttpRequest, *, new_form=None, bound=None, status: int = 200) -> HttpResponse:
    """The page; ``bound`` is a question's edit form sent back with its errors."""

    def form_for(question: ReviewTemplateQuestion) -> ReviewQuestionForm:
        if bound is not None and bound.prefix == f"q{question.pk}":
            return bound
        return ReviewQuestionForm.for_question(question)

    parts = [
        {"value": value, "label": label, "rows": [{"question": q, "form": form_for(q)} for q in questions]}
        for value, label, questions in review_template()
    ]
    context = settings_context(
        request,
        "reviews",
        parts=parts,
        new_form=new_form or NewReviewQuestionForm(),
        effect=services.REVIEW_QUESTIONS_EFFECT,
        history=setting_changes(user=request.user, areas=(services.REVIEWS,)),
    )
    return render(request, "settings/reviews.html", context, status=status)


def _posted_question(request: HttpRequest) -> ReviewTemplateQuestion:
    require_settings_reader(request)
    if not can_change_settings(request.user):
        raise PermissionDenied
    question_id = request.POST.get("question", "")
    return get_object_or_404(ReviewTemplateQuestion, pk=question_id if question_id.isdigit() else 0)


@login_required
def reviews(request: HttpRequest) -> HttpResponse:
    """The questions of each part of the review; a new one (admins) is added at the end of its part."""
    require_settings_reader(request)
    if request.method != "POST":
        return _page(request)
    if not can_change_settings(request.user):
        raise PermissionDenied
    form = NewReviewQuestionForm(request.POST)
    if form.is_valid():
        try:
            question = services.review_question_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Question “%(question)s” added.") % {"question": question})
            return redirect(PAGE)
    return _page(request, new_form=form, status=422)


@login_required
@require_POST
def review_question_edit(request: HttpRequest) -> HttpResponse:
    question = _posted_question(request)
    form = ReviewQuestionForm.for_question(question, request.POST)
    if form.is_valid():
        try:
            services.review_question_edit(question=question, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Question saved: reviews held from now on ask it this way."))
            return redirect(PAGE)
    return _page(request, bound=form, status=422)


def _question_action(request: HttpRequest, action, done: str, **kwargs) -> HttpResponse:
    question = _posted_question(request)
    try:
        action(question=question, actor=request.user, **kwargs)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _page(request, status=422)
    messages.success(request, done % {"question": question})
    return redirect(PAGE)


@login_required
@require_POST
def review_question_move(request: HttpRequest) -> HttpResponse:
    up = request.POST.get("direction") == "up"
    return _question_action(request, services.review_question_move, _("“%(question)s” moved."), up=up)


@login_required
@require_POST
def review_question_retire(request: HttpRequest) -> HttpResponse:
    return _question_action(
        request, services.review_question_retire, _("“%(question)s” retired: reviews held from now on skip it.")
    )


@login_required
@require_POST
def review_question_restore(request: HttpRequest) -> HttpResponse:
    return _question_action(
        request, services.review_question_restore, _("“%(question)s” is asked again in reviews held from now on.")
    )


@login_required
@require_POST
def review_question_delete(request: HttpRequest) -> HttpResponse:
    return _question_action(request, services.review_question_delete, _("“%(question)s” deleted."))
