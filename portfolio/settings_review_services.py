"""The success-review template, changed on the Settings pages: its questions per part of the review, in
Portuguese and English, added, edited, reordered, retired and offered again (admins only, recorded in the
history with what they affect).

A held review stores the questions it was asked, in both languages (``portfolio.services.reviews``), so a change
applies to the reviews held from now on and never rewrites one already held. A question a held review answered
is retired, never deleted; one never asked can be deleted (a typo, a question added by mistake).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import ensure_can_change_settings
from accounts.models import User
from accounts.settings_services import setting_change_record
from core.ordering import swap_with_neighbour
from portfolio.models import ReviewPart, ReviewTemplateQuestion
from portfolio.settings_review_selectors import answered_question_keys

REVIEWS = "reviews"

REVIEW_QUESTIONS_EFFECT = gettext_lazy(
    "Applies to reviews held from now on; reviews already held keep the questions they were asked."
)
QUESTION_PT, QUESTION_EN = gettext_lazy("Question in Portuguese"), gettext_lazy("Question in English")
PART = gettext_lazy("Part of the review")


def _subject(question: ReviewTemplateQuestion) -> str:
    """The question as the history names it: its texts, readable in either language."""
    return f"{question.text_pt} / {question.text_en}"


def _clean_texts(part: str, text_pt: str, text_en: str, *, exclude: int | None = None) -> tuple[str, str]:
    """Both texts given, and neither already a question of the same part (retired ones included)."""
    text_pt, text_en = " ".join((text_pt or "").split()), " ".join((text_en or "").split())
    errors: dict[str, str] = {}
    if part not in ReviewPart.values:
        errors["part"] = _("Pick a part of the review.")
    if not text_pt:
        errors["text_pt"] = _("Give the question in Portuguese.")
    if not text_en:
        errors["text_en"] = _("Give the question in English.")
    same_part = ReviewTemplateQuestion.objects.filter(part=part).exclude(pk=exclude)
    if text_pt and same_part.filter(text_pt__iexact=text_pt).exists():
        errors["text_pt"] = _("This part of the review already has this question.")
    if text_en and same_part.filter(text_en__iexact=text_en).exists():
        errors["text_en"] = _("This part of the review already has this question.")
    if errors:
        raise ValidationError(errors)
    return text_pt, text_en


def _unique_key(text_en: str) -> str:
    base = slugify(text_en).replace("-", "_")[:50] or "question"
    key, n = base, 2
    while ReviewTemplateQuestion.objects.filter(key=key).exists():
        key, n = f"{base}_{n}", n + 1
    return key


@transaction.atomic
def review_question_add(*, part: str, text_pt: str, text_en: str, actor: User | None) -> ReviewTemplateQuestion:
    """A new question at the end of ``part`` (admins only); reviews held from now on ask it."""
    ensure_can_change_settings(actor)
    text_pt, text_en = _clean_texts(part, text_pt, text_en)
    last = ReviewTemplateQuestion.objects.filter(part=part).aggregate(last=Max("position"))["last"] or 0
    question = ReviewTemplateQuestion.objects.create(
        part=part, key=_unique_key(text_en), text_pt=text_pt, text_en=text_en, position=last + 1
    )
    setting_change_record(
        area=REVIEWS,
        subject=gettext_lazy("New question"),
        changes=[(gettext_lazy("Question"), None, _subject(question)), (PART, None, ReviewPart(part).label)],
        effect=REVIEW_QUESTIONS_EFFECT,
        actor=actor,
    )
    return question


@transaction.atomic
def review_question_edit(
    *, question: ReviewTemplateQuestion, text_pt: str, text_en: str, actor: User | None
) -> ReviewTemplateQuestion:
    """New wording for a question (admins only): the reviews already held keep the wording they were asked."""
    ensure_can_change_settings(actor)
    question = ReviewTemplateQuestion.objects.select_for_update().get(pk=question.pk)
    text_pt, text_en = _clean_texts(question.part, text_pt, text_en, exclude=question.pk)
    before = (question.text_pt, question.text_en)
    question.text_pt, question.text_en = text_pt, text_en
    question.save(update_fields=["text_pt", "text_en"])
    setting_change_record(
        area=REVIEWS,
        subject=ReviewPart(question.part).label,
        changes=[(QUESTION_PT, before[0], text_pt), (QUESTION_EN, before[1], text_en)],
        effect=REVIEW_QUESTIONS_EFFECT,
        actor=actor,
    )
    return question


@transaction.atomic
def review_question_move(*, question: ReviewTemplateQuestion, up: bool, actor: User | None) -> None:
    """Swap a question with the one before (``up``) or after it in its part (admins only); at an end, nothing."""
    ensure_can_change_settings(actor)
    rows = ReviewTemplateQuestion.objects.select_for_update().filter(part=question.part).order_by("position", "pk")
    swapped = swap_with_neighbour(rows, question.pk, up=up)
    if swapped is None:
        return
    moved, was, now = swapped
    setting_change_record(
        area=REVIEWS,
        subject=_subject(moved),
        changes=[(gettext_lazy("Position"), was, now)],
        effect=REVIEW_QUESTIONS_EFFECT,
        actor=actor,
    )


@transaction.atomic
def review_question_retire(*, question: ReviewTemplateQuestion, actor: User | None) -> ReviewTemplateQuestion:
    """Stop asking a question (admins only); the reviews that answered it keep it. A part keeps one question."""
    ensure_can_change_settings(actor)
    question = ReviewTemplateQuestion.objects.select_for_update().get(pk=question.pk)
    if not question.active:
        return question
    if not ReviewTemplateQuestion.objects.filter(part=question.part, active=True).exclude(pk=question.pk).exists():
        raise ValidationError(_("Each part of the review keeps at least one question."))
    question.active = False
    question.save(update_fields=["active"])
    setting_change_record(
        area=REVIEWS,
        subject=_subject(question),
        changes=[(gettext_lazy("Asked in reviews"), True, False)],
        effect=REVIEW_QUESTIONS_EFFECT,
        actor=actor,
    )
    return question


@transaction.atomic
def review_question_restore(*, question: ReviewTemplateQuestion, actor: User | None) -> ReviewTemplateQuestion:
    """Ask a retired question again (admins only), where it stood in its part."""
    ensure_can_change_settings(actor)
    question = ReviewTemplateQuestion.objects.select_for_update().get(pk=question.pk)
    if question.active:
        return question
    question.active = True
    question.save(update_fields=["active"])
    setting_change_record(
        area=REVIEWS,
        subject=_subject(question),
        changes=[(gettext_lazy("Asked in reviews"), False, True)],
        effect=REVIEW_QUESTIONS_EFFECT,
        actor=actor,
    )
    return question


@transaction.atomic
def review_question_delete(*, question: ReviewTemplateQuestion, actor: User | None) -> None:
    """Delete a question no held review answered (admins only); one already answered is refused: retire it."""
    ensure_can_change_settings(actor)
    question = ReviewTemplateQuestion.objects.select_for_update().get(pk=question.pk)
    if question.key in answered_question_keys():
        raise ValidationError(
            _("“%(question)s” was answered in held reviews: it cannot be deleted. Retire it instead.")
            % {"question": question}
        )
    if question.active and not (
        ReviewTemplateQuestion.objects.filter(part=question.part, active=True).exclude(pk=question.pk).exists()
    ):
        raise ValidationError(_("Each part of the review keeps at least one question."))
    subject, part = _subject(question), ReviewPart(question.part)
    question.delete()
    setting_change_record(
        area=REVIEWS,
        subject=gettext_lazy("Question deleted"),
        changes=[(gettext_lazy("Question"), subject, None), (PART, part.label, None)],
        actor=actor,
    )
