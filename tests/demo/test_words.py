"""The demo's Portuguese: each feature and area with the right article, and success-review answers that answer
their questions."""

import re

import pytest
from django.utils import timezone

from demo import plans
from demo.people import seed_people
from demo.portfolio import seed_portfolio
from demo.words import AREAS, FEATURES, REVIEW_ANSWERS
from portfolio.models import Activity, Handoff, ReviewStatus, SuccessReview, Task
from portfolio.services.reviews import REVIEW_TEMPLATE
from portfolio.taxonomy import POLICIES

MASCULINE, FEMININE, FEMININE_PLURAL = "m", "f", "fp"
WRONG_ARTICLES = {
    MASCULINE: ["a", "da", "na", "à", "pela", "as", "das", "nas"],
    FEMININE: ["o", "do", "no", "ao", "pelo", "os", "dos", "nos"],
    FEMININE_PLURAL: ["o", "do", "no", "ao", "pelo", "a", "da", "na", "à", "pela", "os", "dos", "nos"],
}
AREA_GENDERS = {
    "financeiro": MASCULINE,
    "comercial": MASCULINE,
    "operações": FEMININE_PLURAL,
    "atendimento": MASCULINE,
    "compras": FEMININE_PLURAL,
    "logística": FEMININE,
    "RH": MASCULINE,
}


def _wrong_pairings() -> list[re.Pattern]:
    assert set(AREA_GENDERS) == set(AREAS)
    words = [(f.name, FEMININE if f.feminine else MASCULINE) for f in FEATURES] + list(AREA_GENDERS.items())
    return [
        re.compile(rf"(?<!\w)({'|'.join(WRONG_ARTICLES[gender])}) {re.escape(word)}(?!\w)", re.IGNORECASE)
        for word, gender in words
    ]


def _as_regex(template: str) -> re.Pattern:
    """A pattern matching any text ``template`` fills in."""
    parts = re.split(r"\{\w+\}", template)
    return re.compile("^" + ".+".join(re.escape(part) for part in parts) + "$")


def test_the_wrong_pairings_catch_the_old_texts():
    wrong = _wrong_pairings()
    for text in [
        "Conversamos sobre o uso do integração com o ERP.",
        "18% menos retrabalho no logística",
        "o agenda compartilhada",
    ]:
        assert any(p.search(text) for p in wrong), text
    for text in ["Conversamos sobre o uso da integração com o ERP.", "no time de logística", "a logística exige"]:
        assert not any(p.search(text) for p in wrong), text


def test_every_feature_reads_with_its_own_article():
    forms = {f.name: f.forms() for f in FEATURES}
    assert forms["agenda compartilhada"]["do_feature"] == "da agenda compartilhada"
    assert forms["emissão de notas"]["ao_feature"] == "à emissão de notas"
    assert forms["módulo financeiro"]["no_feature"] == "no módulo financeiro"


def test_a_touchs_title_and_body_name_the_same_contact_and_area():
    policies = {p[0]: p[1:] for p in POLICIES}
    touches = [t for i in range(120) for t in plans.plan_customer(i, 2026, timezone.localdate(), policies).touches]
    calls = [t for t in touches if t.title.startswith("Ligação de acompanhamento com ")]
    trainings = [t for t in touches if t.title.startswith("Treinamento do time de ")]
    assert calls
    assert trainings
    for call in calls:
        first = call.title.removeprefix("Ligação de acompanhamento com ").split()[0]
        assert f"{first} contou" in call.body, call
    for training in trainings:
        assert training.title.removeprefix("Treinamento do ") in training.body, training


@pytest.fixture
def demo(transactional_db):
    seed_people()
    seed_portfolio(customers=25)


@pytest.mark.usefixtures("demo")
def test_the_demo_texts_pair_every_feature_and_area_with_the_right_article():
    texts = [t for pair in Activity.objects.values_list("title", "body") for t in pair]
    texts += list(Task.objects.values_list("title", flat=True))
    for review in SuccessReview.objects.all():
        texts += [review.outcome, *review.goals]
        texts += [answer["a"] for part in ("past", "future") for answer in review.answers.get(part, [])]
    for handoff in Handoff.objects.all():
        texts += [handoff.results, handoff.goals, handoff.risks]
    assert len(texts) > 200
    assert any(f.name in text for f in FEATURES for text in texts)
    wrong = _wrong_pairings()
    assert [text for text in texts if any(p.search(text) for p in wrong)] == []


@pytest.mark.usefixtures("demo")
def test_every_review_answer_answers_its_question():
    done = SuccessReview.objects.filter(status=ReviewStatus.DONE)
    assert done.count() >= 3
    for review in done:
        for part, questions in REVIEW_TEMPLATE.items():
            answers = review.answers[part]
            assert [a["key"] for a in answers] == [q.key for q in questions]
            for answer in answers:
                assert any(_as_regex(t).match(answer["a"]) for t in REVIEW_ANSWERS[answer["key"]]), answer
