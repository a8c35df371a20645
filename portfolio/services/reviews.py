"""Success reviews: scheduling by the service model's cadence, and the held review."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, gettext_lazy, gettext_noop, override
from django.utils.translation import gettext as _

from accounts.access import ensure_can_write
from accounts.models import User
from core import clock
from core.events import publish
from portfolio import events, ledger
from portfolio.models import (
    ActivityKind,
    Customer,
    ReviewStatus,
    Stage,
    SuccessReview,
)
from portfolio.services.policies import policy_for
from portfolio.services.timeline import activity_log


class ReviewQuestion(str):
    """A success-review question: its English text (a ``str``), a ``key`` that names it for good, ``text_pt``
    (its Portuguese, when edited on the Settings pages) and ``text``, the question in the reader's language.

    It is still the English text so that code storing ``{"q": question}`` keeps working; a review stores the
    question as it was asked, in both languages (``{"key": .., "q": .., "q_pt": .., "a": ..}``), and shows it in
    the reader's language (``review_question_text``), whatever the template says later.
    """

    key: str
    text_pt: str

    def __new__(cls, key: str, text: str, text_pt: str = "") -> "ReviewQuestion":
        question = super().__new__(cls, text)
        question.key = key
        question.text_pt = text_pt
        return question

    @property
    def text(self) -> Promise | str:
        if not self.text_pt:  # Leme's own question: the catalogue translates it
            return gettext_lazy(str(self))
        return str(self) if (get_language() or "").startswith("en") else self.text_pt


# gettext_noop marks the questions for translation; ``ReviewQuestion.text`` translates them when read.
REVIEW_TEMPLATE: dict[str, list[ReviewQuestion]] = {
    "past": [
        ReviewQuestion("goals_reached", gettext_noop("Which goals from the last cycle were reached?")),
        ReviewQuestion("results", gettext_noop("What results did the customer get from the product (numbers)?")),
        ReviewQuestion("obstacles", gettext_noop("What got in the way?")),
    ],
    "future": [
        ReviewQuestion("next_goals", gettext_noop("What are the goals for the next cycle?")),
        ReviewQuestion("means", gettext_noop("Which features or practices will get them there?")),
        ReviewQuestion("goal_owners", gettext_noop("Who at the customer owns each goal?")),
    ],
}
_QUESTIONS_BY_KEY = {question.key: question for part in REVIEW_TEMPLATE.values() for question in part}


def review_answer(question: ReviewQuestion, answer: str) -> dict[str, str]:
    """One stored answer: the question's key, its text in English and Portuguese as asked, and the answer."""
    with override("pt-br"):
        text_pt = question.text_pt or gettext(str(question))
    return {"key": question.key, "q": str(question), "q_pt": text_pt, "a": answer}


def review_question_text(answer: dict) -> str:
    """A stored answer's question in the reader's language, as it was asked.

    Reviews store the question in both languages; those stored before hold the English text (translated while
    the catalogue knows it), or only a key of Leme's own template; anything else is shown as it was stored."""
    if answer.get("q_pt") and not (get_language() or "").startswith("en"):
        return answer["q_pt"]
    stored = answer.get("q") or ""
    if stored:
        return gettext(stored)
    question = _QUESTIONS_BY_KEY.get(answer.get("key", ""))
    return str(question.text) if question is not None else ""


def review_schedule(
    *, customer: Customer, due_date: date, actor: User | None, owner: User | None = None
) -> SuccessReview:
    ensure_can_write(actor)
    owner = owner or customer.owner or actor
    existing = SuccessReview.objects.filter(customer=customer, status=ReviewStatus.SCHEDULED).first()
    if existing:
        existing.due_date = due_date
        existing.owner = owner
        existing.save(update_fields=["due_date", "owner"])
        return existing
    previous = SuccessReview.objects.filter(customer=customer, status=ReviewStatus.DONE).order_by("-held_on").first()
    return SuccessReview.objects.create(
        customer=customer,
        owner=owner,
        due_date=due_date,
        # The goals agreed last time are where the next review starts.
        answers={"carried_goals": previous.goals if previous else []},
    )


@transaction.atomic
def review_complete(
    *,
    review: SuccessReview,
    held_on: date,
    past: list[dict],
    future: list[dict],
    goals: list[str],
    outcome: str,
    actor: User,
) -> SuccessReview:
    """Record a held review and schedule the next one by the service model's cadence."""
    ensure_can_write(actor)
    if review.status != ReviewStatus.SCHEDULED:
        raise ValidationError(_("This review was already recorded."))
    if not any((a.get("a") or "").strip() for a in past + future):
        raise ValidationError(_("Answer at least one question about the past or the future."))
    if not outcome.strip():
        raise ValidationError({"outcome": _("Sum up the review's outcome.")})
    review.held_on = held_on
    review.status = ReviewStatus.DONE
    review.answers = {**review.answers, "past": past, "future": future}
    review.goals = [g.strip() for g in goals if g.strip()]
    review.outcome = outcome
    review.save()
    customer = review.customer
    activity_log(
        customer=customer,
        kind=ActivityKind.REVIEW,
        title=_("Success review held"),
        body=outcome,
        author=actor,
        happened_at=timezone.make_aware(timezone.datetime.combine(held_on, timezone.datetime.min.time()))
        if held_on != clock.today()
        else None,
        data={"review": review.pk},
    )
    policy = policy_for(customer.service_model)
    if policy.review_every_months and customer.stage in (Stage.ONGOING, Stage.UTI):
        review_schedule(customer=customer, due_date=ledger.add_months(held_on, policy.review_every_months), actor=actor)
    publish(events.ReviewCompleted(customer_id=customer.pk, review_id=review.pk))
    return review
