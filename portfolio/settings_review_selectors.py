"""What the success reviews read of their template: the questions a review asks now, and the Settings page's
list of every question with whether a held review answered it."""

from django.db import connection

from portfolio.models import ReviewPart, ReviewStatus, ReviewTemplateQuestion, SuccessReview
from portfolio.services.reviews import REVIEW_TEMPLATE, ReviewQuestion

PARTS = (ReviewPart.PAST, ReviewPart.FUTURE)


def review_questions() -> dict[str, list[ReviewQuestion]]:
    """The questions a review held now asks, per part, in order (one query). Leme's own template while no
    question was ever saved (a database emptied by hand)."""
    rows = list(ReviewTemplateQuestion.objects.order_by("position", "pk"))
    if not rows:
        return REVIEW_TEMPLATE
    return {
        part: [ReviewQuestion(q.key, q.text_en, q.text_pt) for q in rows if q.part == part and q.active]
        for part in PARTS
    }


_ANSWERED_KEYS = """
SELECT DISTINCT answer ->> 'key'
FROM portfolio_successreview review,
     jsonb_array_elements(
         COALESCE(review.answers -> 'past', '[]'::jsonb) || COALESCE(review.answers -> 'future', '[]'::jsonb)
     ) answer
WHERE review.status = 'done' AND jsonb_typeof(answer) = 'object' AND answer ? 'key'
"""


def answered_question_keys() -> set[str]:
    """The keys of every question a held review answered (one query). PostgreSQL reads them inside the JSON; the
    embedded SQLite run reads the held reviews' answers and picks the keys in Python."""
    if connection.vendor != "postgresql":
        return answered_question_keys_in_python()
    with connection.cursor() as cursor:
        cursor.execute(_ANSWERED_KEYS)
        return {key for (key,) in cursor.fetchall()}


def answered_question_keys_in_python() -> set[str]:
    """:func:`answered_question_keys` without PostgreSQL's JSON functions."""
    keys = set()
    for answers in SuccessReview.objects.filter(status=ReviewStatus.DONE).values_list("answers", flat=True):
        for part in ("past", "future"):
            for answer in (answers or {}).get(part) or []:
                if isinstance(answer, dict) and "key" in answer:
                    keys.add(answer["key"])
    return keys


def review_template() -> list[tuple[str, str, list[ReviewTemplateQuestion]]]:
    """Each part of the review (value, label) with all its questions in order, retired ones included, each
    marked ``answered`` when a held review answered it (two queries)."""
    answered = answered_question_keys()
    rows = list(ReviewTemplateQuestion.objects.order_by("position", "pk"))
    for row in rows:
        row.answered = row.key in answered
    return [(part.value, str(part.label), [r for r in rows if r.part == part]) for part in PARTS]
