"""The success-review template on the Settings pages: Leme's questions shipped as the default, questions edited,
added, reordered and retired by admins (recorded in the history with what they affect), reviews held from then
on asking the new questions, reviews already held keeping the ones they were asked, and the pages (the door,
422 with the form)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import SettingChange, User
from portfolio import settings_review_services as review_settings
from portfolio.models import ReviewPart, ReviewStatus, ReviewTemplateQuestion, SuccessReview
from portfolio.services.reviews import REVIEW_TEMPLATE
from portfolio.settings_review_selectors import (
    answered_question_keys,
    answered_question_keys_in_python,
    review_questions,
    review_template,
)
from tests.portfolio.factories import CustomerFactory, hand_off, subscribe

pytestmark = pytest.mark.django_db

PAGE = reverse("journey_settings:reviews")
OBSTACLES_PT, OBSTACLES_EN = "O que atrapalhou?", "What got in the way?"


def speaking(user, language: str) -> User:
    User.objects.filter(pk=user.pk).update(language=language)
    user.refresh_from_db()
    return user


def question(key: str) -> ReviewTemplateQuestion:
    return ReviewTemplateQuestion.objects.get(key=key)


def scheduled_review(org, name: str) -> SuccessReview:
    """csm_a's high-touch customer, handed off: its first success review is scheduled."""
    customer = CustomerFactory(implementation_manager=org.ism_a, name=name)
    subscribe(customer, amount_cents=100_000)
    hand_off(customer, org.csm_a)
    return customer.reviews.get(status=ReviewStatus.SCHEDULED)


def review_url(review: SuccessReview) -> str:
    return f"/customers/{review.customer_id}/reviews/{review.pk}/"


def hold(client, review: SuccessReview, **answers) -> None:
    data = {"held_on": timezone.localdate().isoformat(), "goals": "Integrar o ERP", "outcome": "Metas acordadas"}
    response = client.post(review_url(review), {**data, **answers})
    assert response.status_code == 302, response.content.decode()[:2000]


# --- The default and the services ---------------------------------------------------------------------------------


def test_leme_ships_its_questions_as_the_default_in_both_languages():
    current = review_questions()

    assert {part: [q.key for q in qs] for part, qs in current.items()} == {
        part: [q.key for q in qs] for part, qs in REVIEW_TEMPLATE.items()
    }
    for part, questions in REVIEW_TEMPLATE.items():
        for shipped, saved in zip(questions, current[part], strict=True):
            assert str(saved) == str(shipped)
            with translation.override("pt-br"):
                assert saved.text_pt == str(shipped.text)


def test_an_admin_adds_edits_and_moves_questions_and_each_change_is_in_the_history(org):
    added = review_settings.review_question_add(
        part=ReviewPart.FUTURE, text_pt="Qual NPS queremos?", text_en="Which NPS do we aim for?", actor=org.admin
    )
    review_settings.review_question_edit(
        question=question("obstacles"), text_pt="O que nos atrasou?", text_en="What slowed us down?", actor=org.admin
    )
    review_settings.review_question_move(question=question("obstacles"), up=True, actor=org.admin)

    current = review_questions()
    assert [q.key for q in current["past"]] == ["goals_reached", "obstacles", "results"]
    assert [str(q) for q in current["past"]][1] == "What slowed us down?"
    assert current["future"][-1].key == added.key
    with translation.override("pt-br"):
        assert str(current["future"][-1].text) == "Qual NPS queremos?"
    history = list(SettingChange.objects.filter(area="reviews").order_by("pk"))
    assert [h.actor for h in history] == [org.admin] * 3
    assert {h.effect for h in history} == {
        "Applies to reviews held from now on; reviews already held keep the questions they were asked."
    }
    assert history[1].changes[0] == {
        "field": "Question in Portuguese",
        "before": OBSTACLES_PT,
        "after": "O que nos atrasou?",
        "effect": "",
    }
    assert history[2].changes[0]["field"] == "Position"
    assert (history[2].changes[0]["before"], history[2].changes[0]["after"]) == ("3", "2")


@pytest.mark.parametrize(
    ("texts", "field"),
    [
        (("", "Which NPS do we aim for?"), "text_pt"),
        (("Qual NPS queremos?", "  "), "text_en"),
        (("o que atrapalhou?", "What else?"), "text_pt"),
        (("Algo mais?", "WHAT GOT IN THE WAY?"), "text_en"),
    ],
)
def test_a_question_needs_both_texts_and_no_duplicate_in_its_part(org, texts, field):
    with pytest.raises(ValidationError) as refused:
        review_settings.review_question_add(part="past", text_pt=texts[0], text_en=texts[1], actor=org.admin)

    assert field in refused.value.message_dict
    assert ReviewTemplateQuestion.objects.count() == 6
    assert not SettingChange.objects.filter(area="reviews").exists()


def test_only_admins_change_the_questions(org):
    for person in (org.leader_a, org.csm_a, org.viewer_a):
        with pytest.raises(PermissionDenied):
            review_settings.review_question_retire(question=question("results"), actor=person)
    assert question("results").active


def test_an_answered_question_is_retired_never_deleted_and_a_part_keeps_one_question(org, client_for):
    hold(client_for(org.csm_a), scheduled_review(org, "Padaria Pão Dourado"), past_obstacles="O TI do cliente")

    with pytest.raises(ValidationError):
        review_settings.review_question_delete(question=question("obstacles"), actor=org.admin)
    review_settings.review_question_retire(question=question("obstacles"), actor=org.admin)
    review_settings.review_question_retire(question=question("results"), actor=org.admin)
    with pytest.raises(ValidationError):
        review_settings.review_question_retire(question=question("goals_reached"), actor=org.admin)

    assert [q.key for q in review_questions()["past"]] == ["goals_reached"]
    past = next(questions for part, _label, questions in review_template() if part == "past")
    assert [(q.key, q.active, q.answered) for q in past] == [
        ("goals_reached", True, True),
        ("results", False, True),
        ("obstacles", False, True),
    ]
    review_settings.review_question_restore(question=question("obstacles"), actor=org.admin)
    assert [q.key for q in review_questions()["past"]] == ["goals_reached", "obstacles"]
    # the embedded SQLite run finds the same answered questions without PostgreSQL's JSON functions
    assert answered_question_keys_in_python() == answered_question_keys()
    assert {"goals_reached", "results", "obstacles"} <= answered_question_keys_in_python()


def test_a_question_never_asked_can_be_deleted(org):
    added = review_settings.review_question_add(
        part="past", text_pt="Pergunta errada", text_en="Wrong question", actor=org.admin
    )

    review_settings.review_question_delete(question=added, actor=org.admin)

    assert not ReviewTemplateQuestion.objects.filter(pk=added.pk).exists()
    assert SettingChange.objects.filter(area="reviews").count() == 2


# --- The review page: new reviews ask the current questions, held ones keep theirs ---------------------------------


@pytest.fixture
def edited_after_a_held_review(org, client_for):
    """A review held with Leme's questions, then the template edited: "obstacles" reworded and moved first, "results"
    retired, a new future question added; and a second review scheduled."""
    held = scheduled_review(org, "Padaria Pão Dourado")
    hold(client_for(org.csm_a), held, past_results="50 leads por semana", past_obstacles="O TI do cliente atrasou")
    review_settings.review_question_edit(
        question=question("obstacles"), text_pt="O que nos atrasou?", text_en="What slowed us down?", actor=org.admin
    )
    review_settings.review_question_move(question=question("obstacles"), up=True, actor=org.admin)
    review_settings.review_question_move(question=question("obstacles"), up=True, actor=org.admin)
    review_settings.review_question_retire(question=question("results"), actor=org.admin)
    review_settings.review_question_add(
        part="future", text_pt="Qual NPS queremos?", text_en="Which NPS do we aim for?", actor=org.admin
    )
    held.refresh_from_db()
    return held, scheduled_review(org, "Oficina Boa Vista")


@pytest.mark.parametrize(
    ("language", "asked", "not_asked"),
    [
        (
            "pt-br",
            ["O que nos atrasou?", "Quais objetivos do último ciclo", "Qual NPS queremos?"],
            [OBSTACLES_PT, "Que resultados o cliente obteve"],
        ),
        (
            "en",
            ["What slowed us down?", "Which goals from the last cycle", "Which NPS do we aim for?"],
            [OBSTACLES_EN, "What results did the customer"],
        ),
    ],
)
def test_a_new_review_asks_the_edited_questions_in_their_order(
    org, client_for, edited_after_a_held_review, language, asked, not_asked
):
    _held, new = edited_after_a_held_review

    page = client_for(speaking(org.csm_a, language)).get(review_url(new)).content.decode()

    assert [page.find(text) for text in asked] == sorted(page.find(text) for text in asked)
    assert page.find(asked[0]) > 0
    assert not any(text in page for text in not_asked)


def test_a_new_review_stores_the_questions_it_asked_in_both_languages(org, client_for, edited_after_a_held_review):
    _held, new = edited_after_a_held_review

    nps = ReviewTemplateQuestion.objects.get(text_en="Which NPS do we aim for?")
    hold(client_for(org.csm_a), new, past_obstacles="A integração atrasou", **{f"future_{nps.key}": "Acima de 60"})

    new.refresh_from_db()
    assert [a["key"] for a in new.answers["past"]] == ["obstacles", "goals_reached"]
    assert new.answers["past"][0] == {
        "key": "obstacles",
        "q": "What slowed us down?",
        "q_pt": "O que nos atrasou?",
        "a": "A integração atrasou",
    }
    assert new.answers["future"][3]["key"] == nps.key == "which_nps_do_we_aim_for"
    assert new.answers["future"][3]["q_pt"] == "Qual NPS queremos?"
    assert new.answers["future"][3]["a"] == "Acima de 60"


@pytest.mark.parametrize(
    ("language", "shown", "hidden"),
    [
        ("pt-br", [f"<dt>{OBSTACLES_PT}</dt>", "<dt>Que resultados o cliente obteve"], ["O que nos atrasou?"]),
        ("en", [f"<dt>{OBSTACLES_EN}</dt>", "<dt>What results did the customer get"], ["What slowed us down?"]),
    ],
)
def test_a_review_held_before_keeps_the_questions_it_was_asked(
    org, client_for, edited_after_a_held_review, language, shown, hidden
):
    held, _new = edited_after_a_held_review

    page = client_for(speaking(org.csm_a, language)).get(review_url(held)).content.decode()

    assert all(text in page for text in shown), page
    assert not any(text in page for text in hidden)
    assert "O TI do cliente atrasou" in page


# --- The pages -----------------------------------------------------------------------------------------------------


def test_an_admin_sees_every_question_and_a_leader_only_reads(org, client_for, django_assert_max_num_queries):
    review_settings.review_question_retire(question=question("results"), actor=org.admin)
    admin = client_for(org.admin)
    with django_assert_max_num_queries(12):
        page = admin.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert OBSTACLES_PT in html
    assert OBSTACLES_EN in html
    assert reverse("journey_settings:review_question_restore") in html
    assert "Aplica-se às revisões realizadas a partir de agora" in html

    leader = client_for(org.leader_a)
    read = leader.get(PAGE).content.decode()
    assert OBSTACLES_PT in read
    assert reverse("journey_settings:review_question_retire") not in read
    assert leader.post(PAGE, {"part": "past", "text_pt": "A", "text_en": "B"}).status_code == 403
    retire = reverse("journey_settings:review_question_retire")
    assert leader.post(retire, {"question": question("obstacles").pk}).status_code == 403
    assert client_for(org.csm_a).get(PAGE).status_code == 403
    assert question("obstacles").active
    assert reverse("journey_settings:reviews") in admin.get(reverse("accounts:settings")).content.decode()


def test_a_new_question_without_its_english_or_a_duplicate_answers_422_with_the_form(org, client_for):
    client = client_for(org.admin)

    empty = client.post(PAGE, {"part": "past", "text_pt": "Qual NPS queremos?", "text_en": ""})
    duplicate = client.post(PAGE, {"part": "past", "text_pt": "o que atrapalhou?", "text_en": "Other"})

    assert empty.status_code == 422
    assert 'value="Qual NPS queremos?"' in empty.content.decode()
    assert duplicate.status_code == 422
    assert "Esta parte da revisão já tem esta pergunta." in duplicate.content.decode()
    assert ReviewTemplateQuestion.objects.count() == 6
    added = client.post(PAGE, {"part": "future", "text_pt": "Qual NPS queremos?", "text_en": "Which NPS?"})
    assert added.status_code == 302
    assert review_questions()["future"][-1].text_pt == "Qual NPS queremos?"


def test_editing_a_question_with_an_empty_text_answers_422_and_a_good_edit_is_saved(org, client_for):
    client = client_for(org.admin)
    edit = reverse("journey_settings:review_question_edit")
    pk = question("obstacles").pk

    bad = client.post(edit, {"question": pk, f"q{pk}-text_pt": "", f"q{pk}-text_en": "What slowed us down?"})
    good = client.post(
        edit, {"question": pk, f"q{pk}-text_pt": "O que nos atrasou?", f"q{pk}-text_en": "What slowed us down?"}
    )

    assert bad.status_code == 422
    assert 'value="What slowed us down?"' in bad.content.decode()
    assert good.status_code == 302
    assert (question("obstacles").text_pt, question("obstacles").text_en) == (
        "O que nos atrasou?",
        "What slowed us down?",
    )


def test_deleting_an_answered_question_answers_422_and_retiring_it_keeps_it_listed(org, client_for):
    hold(client_for(org.csm_a), scheduled_review(org, "Padaria Pão Dourado"), past_obstacles="O TI do cliente")
    client = client_for(org.admin)
    pk = question("obstacles").pk

    refused = client.post(reverse("journey_settings:review_question_delete"), {"question": pk})
    retired = client.post(reverse("journey_settings:review_question_retire"), {"question": pk}, follow=True)

    assert refused.status_code == 422
    assert "Desative-a" in refused.content.decode()
    assert retired.status_code == 200
    assert f'id="question-{pk}" class="retired"' in retired.content.decode()
    assert not question("obstacles").active
