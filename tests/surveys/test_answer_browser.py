"""A contact answers an emailed NPS survey on a phone, in a real Chromium."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portfolio.models import Activity
from surveys.models import ChiCriterion, Response
from tests.conftest import screenshot
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized Chromium with no JavaScript: the page must work as plain HTML."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-US", java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    yield page
    context.close()


def test_a_contact_answers_from_the_emailed_link_on_a_phone(phone, org):
    # given an NPS survey emailed to a customer's contact, in English
    customer = CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a)
    contact = ContactFactory(customer=customer, name="Ana Souza", language="en")
    delivery, token = make_delivery(make_campaign("nps", company="Leme"), contact=contact, language="en")

    # when she taps 9 in the email
    phone.goto(f"{phone.base_url}/s/{token}/?score=9")

    # then the page shows the question with 9 chosen, and nothing is recorded yet
    scale = phone.get_by_role("group", name="On a scale of 0 to 10, how likely are you to recommend Leme")
    assert scale.get_by_role("radio", name="9", exact=True).is_checked()
    assert not scale.get_by_role("radio", name="8", exact=True).is_checked()
    assert not Response.objects.exists()
    screenshot(phone, "survey-answer-phone")

    # when she says why and confirms with one tap
    phone.get_by_label("Why? Tell us the main reason for your score.").fill("The onboarding team was great.")
    phone.get_by_role("button", name="Send my answer").tap()

    # then she sees the thank-you page and the answer is on the customer's timeline
    expect(phone.get_by_role("heading", name="Thank you, Ana!")).to_be_visible()
    expect(phone.get_by_text("Your score: 9 of 10")).to_be_visible()
    screenshot(phone, "survey-thanks-phone")
    response = Response.objects.get(delivery=delivery)
    assert (response.score, response.comment) == (9, "The onboarding team was great.")
    assert Activity.objects.filter(customer=customer, kind="survey").count() == 1


def test_the_score_can_be_changed_with_the_keyboard(phone, org):
    customer = CustomerFactory(owner=org.csm_a)
    contact = ContactFactory(customer=customer, name="Bruno Lima", language="en")
    delivery, token = make_delivery(make_campaign("csat", scale_max=5), contact=contact, language="en")

    phone.goto(f"{phone.base_url}/s/{token}/?score=4")
    phone.get_by_role("radio", name="4", exact=True).focus()
    phone.keyboard.press("ArrowRight")

    assert phone.get_by_role("radio", name="5", exact=True).is_checked()
    phone.get_by_label("Why? Tell us the main reason for your score.").fill("Quick answers")
    phone.get_by_role("button", name="Send my answer").tap()
    expect(phone.get_by_text("Your score: 5 of 5")).to_be_visible()
    assert Response.objects.get(delivery=delivery).score == 5


def test_unsubscribing_from_the_link_and_an_expired_link_on_a_phone(phone, org):
    customer = CustomerFactory(owner=org.csm_a)
    contact = ContactFactory(customer=customer, name="Carla Dias", language="en")
    _, token = make_delivery(make_campaign("nps"), contact=contact, language="en", expires_in=timedelta(days=-1))

    phone.goto(f"{phone.base_url}/s/{token}/?score=3")
    expect(phone.get_by_role("heading", name="This survey link has expired")).to_be_visible()
    screenshot(phone, "survey-expired-phone")

    phone.goto(f"{phone.base_url}/s/{token}/unsubscribe/")
    screenshot(phone, "survey-unsubscribe-phone")
    phone.get_by_role("button", name="Yes, unsubscribe me").tap()
    expect(phone.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    screenshot(phone, "survey-unsubscribed-phone")
    contact.refresh_from_db()
    assert contact.opted_out_at is not None


def test_chi_on_a_desktop(page, org):
    for position, text in enumerate(["We use the product every week", "We reached the goal set at onboarding"], 1):
        ChiCriterion.objects.create(position=position, text_pt=text, text_en=text)
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a), language="en")
    delivery, token = make_delivery(make_campaign("chi"), contact=contact, language="en")

    page.goto(f"{page.base_url}/s/{token}/")
    page.get_by_role("group", name="We use the product every week").get_by_role("radio", name="Yes").check()
    page.get_by_role("group", name="We reached the goal set at onboarding").get_by_role("radio", name="No").check()
    screenshot(page, "survey-chi-desktop")
    page.get_by_role("button", name="Send my answer").click()

    expect(page.get_by_text("1 of 2 met")).to_be_visible()
    assert Response.objects.get(delivery=delivery).chi_answers == {"1": 1, "2": 0}
