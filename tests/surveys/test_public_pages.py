"""The public survey pages: what a contact (or an employee) sees from the email's links, without logging in."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client

from portfolio.models import Activity, Task
from surveys.models import ChiCriterion, Response
from surveys.services import campaign_close
from tests.factories import UserFactory
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery


@pytest.fixture
def customer(org):
    return CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a)


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Ana Souza")


@pytest.fixture
def link(contact):
    """An NPS delivery to Ana, and its answer page's address."""
    delivery, token = make_delivery(make_campaign("nps"), contact=contact, language="en")
    return delivery, f"/s/{token}/"


@pytest.fixture
def anonymous():
    """A browser with no cookies that refuses requests without a CSRF token, as Django does in production."""
    return Client(enforce_csrf_checks=True)


def checked_scores(html: str) -> list[str]:
    return re.findall(r'name="score" value="(\d+)" required checked', html)


def nothing_recorded() -> bool:
    return (
        not Response.objects.exists()
        and not Task.objects.filter(origin="playbook").exists()
        and not Activity.objects.filter(kind="survey").exists()
    )


# --- Opening the link records nothing -------------------------------------------------------------------------


def test_opening_the_link_shows_the_clicked_score_chosen_and_records_nothing(link, anonymous):
    _, url = link

    page = anonymous.get(f"{url}?score=3")

    html = page.content.decode()
    assert page.status_code == 200
    assert checked_scores(html) == ["3"]
    assert "how likely are you to recommend" in html
    assert '<textarea id="comment" name="comment"' in html
    assert nothing_recorded()


def test_the_page_sets_no_cookie_and_is_never_cached(link, anonymous):
    _, url = link

    page = anonymous.get(f"{url}?score=3")

    assert page.cookies == {}
    assert "no-store" in page["Cache-Control"]
    assert page["X-Robots-Tag"] == "noindex, nofollow"


def test_a_head_request_from_a_link_scanner_records_nothing(link, anonymous):
    _, url = link

    assert anonymous.head(f"{url}?score=0").status_code == 200
    assert nothing_recorded()


@pytest.mark.parametrize("score", ["abc", "11", "-1", ""])
def test_a_bad_score_in_the_link_just_chooses_nothing(link, anonymous, score):
    _, url = link

    page = anonymous.get(f"{url}?score={score}")

    assert page.status_code == 200
    assert checked_scores(page.content.decode()) == []


def test_the_page_is_accessible_a_fieldset_with_the_question_as_legend_and_labelled_choices(link, anonymous):
    _, url = link

    html = anonymous.get(url).content.decode()

    assert re.search(r"<fieldset[^>]*>\s*<legend>On a scale of 0 to 10, how likely", html)
    assert html.count('<label class="choice"><input type="radio" name="score"') == 11
    assert '<label for="comment">' in html
    assert "<script" not in html
    assert 'class="mainnav"' not in html


# --- Answering -----------------------------------------------------------------------------------------------


def test_confirming_records_the_answer_and_shows_the_thanks_page(link, anonymous):
    delivery, url = link

    sent = anonymous.post(url, {"score": "9", "comment": "Atendimento excelente"})

    assert sent.status_code == 303
    assert sent["Location"] == f"{url}thanks/"
    response = Response.objects.get(delivery=delivery)
    assert (response.score, response.comment) == (9, "Atendimento excelente")
    thanks = anonymous.get(sent["Location"])
    assert thanks.status_code == 200
    assert "Thank you, Ana!" in thanks.content.decode()
    assert "Your score: 9 of 10" in thanks.content.decode()


def test_answering_again_updates_the_same_answer(link, anonymous):
    delivery, url = link
    anonymous.post(url, {"score": "9", "comment": "Bom"})

    page = anonymous.get(url)
    anonymous.post(url, {"score": "6", "comment": "Mudei de ideia"})

    assert checked_scores(page.content.decode()) == ["9"]
    assert "You have already answered" in page.content.decode()
    assert Response.objects.filter(delivery=delivery).count() == 1
    assert Response.objects.get(delivery=delivery).score == 6


def test_zero_is_a_valid_nps_answer(link, anonymous):
    delivery, url = link

    assert anonymous.post(url, {"score": "0"}).status_code == 303
    assert Response.objects.get(delivery=delivery).score == 0


@pytest.mark.parametrize("score", ["-1", "11", "abc", "", "4.5", None])
def test_a_bad_score_is_refused_with_a_message_keeping_the_comment(link, anonymous, score):
    _, url = link
    data = {"comment": "O onboarding foi confuso"}
    if score is not None:
        data["score"] = score

    page = anonymous.post(url, data)

    html = page.content.decode()
    assert page.status_code == 422
    assert "Choose a score from 0 to 10." in html
    assert ">O onboarding foi confuso</textarea>" in html
    assert checked_scores(html) == []
    assert nothing_recorded()


@pytest.mark.parametrize(
    ("kind", "scale_max", "score", "message"),
    [
        ("csat", 5, "6", "Choose a score from 1 to 5."),
        ("csat", 5, "0", "Choose a score from 1 to 5."),
        ("ces", 7, "0", "Choose a score from 1 to 7."),
        ("ces", 7, "8", "Choose a score from 1 to 7."),
    ],
)
def test_other_kinds_refuse_scores_off_their_scale(contact, anonymous, kind, scale_max, score, message):
    _, token = make_delivery(make_campaign(kind, scale_max=scale_max), contact=contact, language="en")

    page = anonymous.post(f"/s/{token}/", {"score": score, "comment": "Difícil de achar o relatório"})

    assert page.status_code == 422
    assert message in page.content.decode()
    assert ">Difícil de achar o relatório</textarea>" in page.content.decode()
    assert not Response.objects.exists()


def test_csat_on_a_ten_point_scale_shows_and_accepts_ten(contact, anonymous):
    delivery, token = make_delivery(make_campaign("csat", scale_max=10), contact=contact, language="en")

    html = anonymous.get(f"/s/{token}/?score=10").content.decode()
    sent = anonymous.post(f"/s/{token}/", {"score": "10"})

    assert checked_scores(html) == ["10"]
    assert html.count('name="score"') == 10
    assert sent.status_code == 303
    assert Response.objects.get(delivery=delivery).score == 10


def test_a_detractor_answer_creates_the_follow_up_task(link, anonymous, org, django_capture_on_commit_callbacks):
    _, url = link

    with django_capture_on_commit_callbacks(execute=True):
        anonymous.post(url, {"score": "2", "comment": "Suporte lento"})

    task = Task.objects.get(origin="playbook")
    assert task.owner == org.csm_a
    assert task.notes == "Suporte lento"
    entry = Activity.objects.get(kind="survey")
    assert entry.title.startswith("NPS 2 — ")
    assert entry.body == "Suporte lento"


def test_chi_asks_each_customer_criterion_yes_or_no(contact, anonymous):
    ChiCriterion.objects.create(position=1, text_pt="Usa o produto toda semana", text_en="Uses the product weekly")
    ChiCriterion.objects.create(position=2, text_pt="Recomendou a alguém", text_en="Recommended us to someone")
    ChiCriterion.objects.create(position=3, text_pt="Pagou em dia", text_en="Paid on time", answered_by="csm")
    delivery, token = make_delivery(make_campaign("chi"), contact=contact, language="en")
    url = f"/s/{token}/"

    html = anonymous.get(url).content.decode()
    refused = anonymous.post(url, {"chi-1": "yes", "comment": "Quase"})
    sent = anonymous.post(url, {"chi-1": "yes", "chi-2": "no"})

    assert "Uses the product weekly" in html
    assert "Paid on time" not in html
    assert refused.status_code == 422
    assert "Answer yes or no for every statement." in refused.content.decode()
    assert 'name="chi-1" value="yes" required checked' in refused.content.decode()
    assert sent.status_code == 303
    response = Response.objects.get(delivery=delivery)
    assert (response.score, response.chi_answers) == (1, {"1": 1, "2": 0})


# --- Links that no longer work ----------------------------------------------------------------------------------


def test_an_expired_link_answers_410_with_a_page_saying_so(contact, anonymous):
    _, token = make_delivery(make_campaign(), contact=contact, language="en", expires_in=timedelta(seconds=-1))

    page = anonymous.get(f"/s/{token}/?score=9")
    sent = anonymous.post(f"/s/{token}/", {"score": "9"})

    assert page.status_code == 410
    assert "This survey link has expired" in page.content.decode()
    assert sent.status_code == 410
    assert not Response.objects.exists()


def test_a_closed_campaign_answers_410(link, anonymous, org):
    delivery, url = link
    anonymous.post(url, {"score": "9"})
    campaign_close(campaign=delivery.campaign, actor=org.admin)

    page = anonymous.get(url)
    sent = anonymous.post(url, {"score": "3"})

    assert page.status_code == 410
    assert "This survey is closed" in page.content.decode()
    assert "Your answer was recorded" in page.content.decode()
    assert sent.status_code == 410
    assert Response.objects.get().score == 9


def test_an_unknown_token_answers_404_with_a_page(db, anonymous):
    page = anonymous.get("/s/not-a-real-token-at-all/?score=9", HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 404
    assert "Survey not found" in page.content.decode()


# --- Language ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "question", "other"),
    [
        ("pt-br", "qual a probabilidade de você recomendar", "how likely are you to recommend"),
        ("en", "how likely are you to recommend", "qual a probabilidade de você recomendar"),
    ],
)
def test_the_page_speaks_the_delivery_language(contact, anonymous, language, question, other):
    _, token = make_delivery(make_campaign(), contact=contact, language=language)

    # The browser asks for the other language: the delivery's wins.
    page = anonymous.get(f"/s/{token}/", HTTP_ACCEPT_LANGUAGE="en" if language == "pt-br" else "pt-br")

    html = page.content.decode()
    assert f'<html lang="{language}">' in html
    assert page["Content-Language"] == language
    assert question in html
    assert other not in html


def test_a_logged_in_user_opening_a_link_still_sees_the_contact_language(contact, client_for, org):
    _, token = make_delivery(make_campaign(), contact=contact, language="pt-br")
    org.csm_a.language = "en"
    org.csm_a.save(update_fields=["language"])

    page = client_for(org.csm_a).get(f"/s/{token}/")

    assert '<html lang="pt-br">' in page.content.decode()


def test_the_expired_page_speaks_the_delivery_language(contact, anonymous):
    _, token = make_delivery(make_campaign(), contact=contact, language="pt-br", expires_in=timedelta(seconds=-1))

    page = anonymous.get(f"/s/{token}/", HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 410
    assert '<html lang="pt-br">' in page.content.decode()
    assert page["Content-Language"] == "pt-br"


# --- eNPS ---------------------------------------------------------------------------------------------------------


def test_enps_answers_never_reach_a_timeline(org, anonymous, customer):
    delivery, token = make_delivery(make_campaign("enps"), employee=UserFactory(team=org.team_a), language="en")

    page = anonymous.get(f"/s/{token}/?score=4")
    sent = anonymous.post(f"/s/{token}/", {"score": "4", "comment": "Falta reconhecimento"})

    assert "anonymous" in page.content.decode()
    assert "Unsubscribe" not in page.content.decode()
    assert sent.status_code == 303
    response = Response.objects.get(delivery=delivery)
    assert response.customer is None
    assert not Activity.objects.filter(kind="survey").exists()


# --- Unsubscribing --------------------------------------------------------------------------------------------------


def test_one_click_unsubscribe_works_without_cookies_or_csrf(link, anonymous, contact):
    _, url = link

    page = anonymous.post(f"{url}unsubscribe/", {"List-Unsubscribe": "One-Click"})

    assert page.status_code == 200
    assert "You are unsubscribed" in page.content.decode()
    contact.refresh_from_db()
    assert contact.opted_out_at is not None


def test_opening_the_unsubscribe_link_only_asks_for_confirmation(link, anonymous, contact):
    _, url = link

    page = anonymous.get(f"{url}unsubscribe/")

    html = page.content.decode()
    assert page.status_code == 200
    assert f'<form method="post" action="{url}unsubscribe/">' in html
    assert "Yes, unsubscribe me" in html
    contact.refresh_from_db()
    assert contact.opted_out_at is None


def test_unsubscribing_works_on_an_expired_link_too(contact, anonymous):
    _, token = make_delivery(make_campaign(), contact=contact, language="en", expires_in=timedelta(days=-60))

    page = anonymous.post(f"/s/{token}/unsubscribe/")

    assert page.status_code == 200
    contact.refresh_from_db()
    assert contact.opted_out_at is not None


def test_the_opt_out_covers_every_campaign(contact, anonymous):
    _, first = make_delivery(make_campaign("nps"), contact=contact, language="en")
    _, second = make_delivery(make_campaign("csat", scale_max=5), contact=contact, language="en")

    anonymous.post(f"/s/{first}/unsubscribe/")
    page = anonymous.get(f"/s/{second}/unsubscribe/")

    assert "You are already unsubscribed" in page.content.decode()


def test_enps_has_nothing_to_unsubscribe_from(org, anonymous):
    _, token = make_delivery(make_campaign("enps"), employee=UserFactory(team=org.team_a), language="en")

    page = anonymous.get(f"/s/{token}/unsubscribe/")
    posted = anonymous.post(f"/s/{token}/unsubscribe/")

    assert page.status_code == 200
    assert "This is an internal survey" in page.content.decode()
    assert "anonymous" in page.content.decode()
    assert posted.status_code == 200
    assert "This is an internal survey" in posted.content.decode()


def test_an_unknown_unsubscribe_link_is_a_404(db, anonymous):
    assert anonymous.post("/s/nope/unsubscribe/").status_code == 404


# --- Cost -------------------------------------------------------------------------------------------------------


def test_the_answer_page_costs_a_fixed_number_of_queries(link, anonymous, django_assert_max_num_queries):
    _, url = link

    with django_assert_max_num_queries(2):
        page = anonymous.get(f"{url}?score=9")

    assert page.status_code == 200
    assert checked_scores(page.content.decode()) == ["9"]


def test_the_answer_and_thanks_pages_read_the_delivery_once_and_only_what_they_show(
    link, anonymous, django_assert_num_queries
):
    """One query each, even with an answer to show (nothing deferred is read later), and none of it the
    customer's row: the pages never show it, and reading every column of five tables cost more than the query."""
    _, url = link
    anonymous.post(url, {"score": "3", "comment": "Slow support"})

    with django_assert_num_queries(1) as page_queries:
        page = anonymous.get(url)
    with django_assert_num_queries(1) as thanks_queries:
        thanks = anonymous.get(f"{url}thanks/")

    assert checked_scores(page.content.decode()) == ["3"]
    assert "Slow support" in page.content.decode()
    assert "Ana" in page.content.decode()
    assert thanks.status_code == 200
    for queries in (page_queries, thanks_queries):
        sql = queries.captured_queries[0]["sql"]
        assert "portfolio_customer" not in sql
        assert '"surveys_campaign"."audience"' not in sql


def test_recording_an_answer_reads_the_delivery_once_locked_then_its_answer(link, anonymous, django_assert_num_queries):
    """The POST reads the delivery by its token under its lock (no unlocked read first), then the answer once the
    lock is held: the transaction's start and end, two reads, the answer and its timeline entry written."""
    delivery, url = link

    with django_assert_num_queries(6) as first:
        answered = anonymous.post(url, {"score": "9", "comment": "Great"})
    with django_assert_num_queries(6) as again:  # the answer updated rather than inserted
        changed = anonymous.post(url, {"score": "10", "comment": "Great"})

    assert (answered.status_code, changed.status_code) == (303, 303)
    assert Response.objects.get(delivery=delivery).score == 10
    for queries in (first, again):
        reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
        assert len(reads) == 2
        assert '"surveys_delivery"."token_hash" =' in reads[0]
        assert "FOR UPDATE" in reads[0]
        assert reads[1].startswith('SELECT "surveys_response"')
        assert "FOR UPDATE" not in reads[1]
    assert [q["sql"].split()[0] for q in again.captured_queries][3:5] == ["UPDATE", "INSERT"]


# --- The page rendered once per question, language, choice and state ------------------------------------------------


def fresh(client: Client, url: str, settings) -> str:
    """The page rendered whole, as with DEBUG on (a template being edited): what the shared rendering must equal."""
    settings.DEBUG = True
    try:
        return client.get(url).content.decode()
    finally:
        settings.DEBUG = False


def test_two_contacts_of_a_campaign_each_get_their_own_name_and_links(customer, anonymous, settings):
    campaign = make_campaign("nps")
    _, ana = make_delivery(campaign, contact=ContactFactory(customer=customer, name="Ana Souza"), language="en")
    _, bia = make_delivery(campaign, contact=ContactFactory(customer=customer, name="Bia Lima"), language="en")

    first = anonymous.get(f"/s/{ana}/?score=8").content.decode()
    # The second page is the first's, rendered once, with Bia's own text put in: no template is rendered for it.
    with mock.patch("surveys.public_views.render_to_string", side_effect=AssertionError("rendered again")):
        second = anonymous.get(f"/s/{bia}/?score=8").content.decode()

    assert "Hi Ana, one quick question" in first
    assert "Hi Bia, one quick question" in second
    assert "Ana" not in second
    assert ana not in second
    assert f'action="/s/{bia}/"' in second
    assert f'href="/s/{bia}/?lang=pt-br&amp;score=8"' in second
    assert f'href="/s/{bia}/unsubscribe/"' in second
    assert checked_scores(second) == ["8"]
    assert second == fresh(anonymous, f"/s/{bia}/?score=8", settings)


def test_a_contacts_name_and_comment_are_escaped(customer, anonymous, settings):
    name = """<script>alert("x")</script>&'Zé"""
    delivery, token = make_delivery(
        make_campaign("nps"), contact=ContactFactory(customer=customer, name=name), language="en"
    )
    Response.objects.create(
        delivery=delivery, campaign=delivery.campaign, kind="nps", score=3, comment="</textarea><b>bold</b> & more"
    )

    html = anonymous.get(f"/s/{token}/").content.decode()

    assert "<script>" not in html
    assert "Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;Zé, one quick question" in html
    assert ">&lt;/textarea&gt;&lt;b&gt;bold&lt;/b&gt; &amp; more</textarea>" in html
    assert html == fresh(anonymous, f"/s/{token}/", settings)


def test_the_language_chosen_on_the_page_is_rendered_apart(link, anonymous, settings):
    _, url = link

    english = anonymous.get(f"{url}?score=2").content.decode()
    portuguese = anonymous.get(f"{url}?score=2&lang=pt-br").content.decode()

    assert '<html lang="en">' in english
    assert "Hi Ana, one quick question" in english
    assert '<html lang="pt-br">' in portuguese
    assert "how likely are you to recommend" not in portuguese
    assert f'action="{url}?lang=pt-br"' in portuguese
    assert f'href="{url}?lang=en&amp;score=2"' in portuguese
    assert portuguese == fresh(anonymous, f"{url}?score=2&lang=pt-br", settings)


@pytest.mark.parametrize("kind", ["nps", "csat", "ces", "chi", "enps"])
def test_the_shared_page_equals_the_page_rendered_whole(kind, org, contact, anonymous, settings):
    ChiCriterion.objects.create(position=1, text_pt="Usa o produto toda semana", text_en="Uses the product weekly")
    campaign = make_campaign(kind)
    if kind == "enps":
        delivery, token = make_delivery(campaign, employee=UserFactory(team=org.team_a), language="pt-br")
    else:
        delivery, token = make_delivery(campaign, contact=contact, language="pt-br")
    url = f"/s/{token}/"
    pages = [f"{url}?score=1", f"{url}?lang=en"]

    before = [anonymous.get(page).content.decode() for page in pages]
    before_whole = [fresh(anonymous, page, settings) for page in pages]
    anonymous.post(url, {"score": "1", "chi-1": "yes", "comment": 'Ótimo "atendimento" <3'})
    after = [anonymous.get(page).content.decode() for page in pages]
    after_whole = [fresh(anonymous, page, settings) for page in pages]

    assert Response.objects.filter(delivery=delivery).exists()
    assert "Ótimo &quot;atendimento&quot; &lt;3" in after[0]
    assert before[0] != after[0]
    assert before == before_whole
    assert after == after_whole
