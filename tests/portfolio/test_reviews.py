"""Success reviews in the reader's language: the form's questions, what a recorded review stores, and the
printable report for the customer, including reviews stored before questions had keys."""

import pytest
from django.utils import timezone

from accounts.models import User
from portfolio import services
from portfolio.models import ReviewStatus, SuccessReview
from tests.portfolio.factories import CustomerFactory, hand_off, subscribe

pytestmark = pytest.mark.django_db


def speaking(user, language: str):
    User.objects.filter(pk=user.pk).update(language=language)
    user.refresh_from_db()
    return user


@pytest.fixture
def review(org) -> SuccessReview:
    """csm_a's high-touch customer, handed off: its first success review is scheduled."""
    customer = CustomerFactory(implementation_manager=org.ism_a, name="Padaria Pão Dourado")
    subscribe(customer, amount_cents=100_000)
    hand_off(customer, org.csm_a)
    return customer.reviews.get(status=ReviewStatus.SCHEDULED)


def url(review: SuccessReview) -> str:
    return f"/customers/{review.customer_id}/reviews/{review.pk}/"


@pytest.mark.parametrize(
    ("language", "question", "other_language"),
    [
        ("pt-br", "Quais objetivos do último ciclo foram alcançados?", "Which goals from the last cycle were reached?"),
        ("en", "Which goals from the last cycle were reached?", "Quais objetivos do último ciclo foram alcançados?"),
    ],
)
def test_the_review_form_asks_in_the_readers_language(org, client_for, review, language, question, other_language):
    response = client_for(speaking(org.csm_a, language)).get(url(review))

    assert response.status_code == 200
    assert question in response.text
    assert other_language not in response.text


def test_a_recorded_review_stores_each_questions_key_and_text_in_both_languages(org, client_for, review):
    # given a CSM who reads Portuguese
    client = client_for(speaking(org.csm_a, "pt-br"))

    # when
    response = client.post(
        url(review),
        {
            "held_on": timezone.localdate().isoformat(),
            "past_goals_reached": "Funil configurado e 50 leads por semana",
            "future_next_goals": "Integrar o ERP até março",
            "goals": "Integrar o ERP",
            "outcome": "Metas do próximo ciclo acordadas",
        },
    )

    # then
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.answers["past"][0] == {
        "key": "goals_reached",
        "q": "Which goals from the last cycle were reached?",
        "q_pt": "Quais objetivos do último ciclo foram alcançados?",
        "a": "Funil configurado e 50 leads por semana",
    }
    assert [a["key"] for a in review.answers["future"]] == ["next_goals", "means", "goal_owners"]


@pytest.fixture
def held_review(org, review) -> SuccessReview:
    """A held review with a keyed answer, one stored before questions had keys (the English text only) and one
    whose question the template no longer has."""
    services.review_complete(
        review=review,
        held_on=timezone.localdate(),
        past=[
            {"key": "goals_reached", "q": "Which goals from the last cycle were reached?", "a": "50 leads por semana"},
            {"q": "What got in the way?", "a": "O TI do cliente atrasou a integração"},
        ],
        future=[{"key": "nps_target", "q": STORED_AS_IS, "a": "Acima de 60"}],
        goals=["Integrar o ERP"],
        outcome="Metas acordadas",
        actor=org.csm_a,
    )
    return review


STORED_AS_IS = "Qual NPS queremos no trimestre?"


@pytest.mark.parametrize(
    ("language", "questions"),
    [
        ("pt-br", ["Quais objetivos do último ciclo foram alcançados?", "O que atrapalhou?", STORED_AS_IS]),
        ("en", ["Which goals from the last cycle were reached?", "What got in the way?", STORED_AS_IS]),
    ],
)
def test_the_printable_report_shows_each_question_in_the_readers_language(
    org, client_for, held_review, language, questions
):
    response = client_for(speaking(org.csm_a, language)).get(url(held_review))

    assert response.status_code == 200
    shown = [question for question in questions if f"<dt>{question}</dt>" in response.text]
    assert shown == questions
