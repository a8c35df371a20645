"""The public survey page offers the other language with one link that keeps the token and the chosen score;
switching records nothing, and the choice follows the answer to the thanks page."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from surveys.models import Response
from tests.conftest import screenshot
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery

PORTUGUESE = "qual a probabilidade de você recomendar"
ENGLISH = "how likely are you to recommend"


@pytest.fixture
def token(org):
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a), name="Ana Souza", language="pt-br")
    _, token = make_delivery(make_campaign("nps", company="Leme"), contact=contact, language="pt-br")
    return token


@pytest.mark.django_db
def test_the_page_links_to_the_other_language_keeping_the_token_and_the_score(token):
    page = Client().get(f"/s/{token}/?score=9")

    html = page.content.decode()
    assert PORTUGUESE in html
    assert f'<a href="/s/{token}/?lang=en&amp;score=9" lang="en" hreflang="en">English</a>' in html


@pytest.mark.django_db
def test_the_other_language_is_shown_and_nothing_is_recorded(token):
    page = Client().get(f"/s/{token}/?lang=en&score=9")

    html = page.content.decode()
    assert (page.status_code, page["Content-Language"]) == (200, "en")
    assert ENGLISH in html
    assert PORTUGUESE not in html
    assert 'name="score" value="9" required checked' in html
    # the way back, and a form that keeps the language
    assert f'href="/s/{token}/?lang=pt-br&amp;score=9"' in html
    assert f'action="/s/{token}/?lang=en"' in html
    assert not Response.objects.exists()


@pytest.mark.django_db
def test_an_unknown_language_falls_back_to_the_delivery_language(token):
    page = Client().get(f"/s/{token}/?lang=xx")

    assert page["Content-Language"] == "pt-br"


@pytest.mark.django_db
def test_the_answer_sent_in_the_other_language_thanks_in_it(token):
    client = Client(enforce_csrf_checks=True)

    sent = client.post(f"/s/{token}/?lang=en", {"score": "9"})
    thanks = client.get(sent["Location"])

    assert (sent.status_code, sent["Location"]) == (303, f"/s/{token}/thanks/?lang=en")
    assert thanks["Content-Language"] == "en"
    assert Response.objects.get().score == 9


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_contact_switches_to_english_on_a_phone_and_answers(browser, live_server, token):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", java_script_enabled=False)
    phone = context.new_page()
    phone.set_default_timeout(10_000)

    # given the Portuguese survey opened from the email's 9
    phone.goto(f"{live_server.url}/s/{token}/?score=9")
    expect(phone.get_by_text(PORTUGUESE, exact=False)).to_be_visible()
    link = phone.get_by_role("link", name="English")
    assert link.bounding_box()["height"] >= 44

    # when she taps "English"
    link.click()

    # then the same question is in English, 9 still chosen, nothing recorded
    scale = phone.get_by_role("group", name="On a scale of 0 to 10, how likely are you to recommend Leme")
    assert scale.get_by_role("radio", name="9", exact=True).is_checked()
    assert not Response.objects.exists()
    screenshot(phone, "survey-answer-phone-english")

    # when she sends it, the thanks are in English too
    phone.get_by_role("button", name="Send my answer").click()
    expect(phone.get_by_text("Your score: 9 of 10")).to_be_visible()
    assert Response.objects.get().score == 9
    context.close()
