"""A CSM calls back a detractor in a real browser: she says whom the call was with and reads that the loop
was closed."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from portfolio.models import TaskStatus
from surveys import answers
from surveys.models import Response
from tests.conftest import screenshot
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_call_with_the_detractor_closes_the_loop_on_screen(page, login_page, org):
    User.objects.filter(pk=org.csm_a.pk).update(language="en")
    # given Ana's NPS 3 at a customer of Lucas, where Bruno works too
    customer = CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a)
    ana = ContactFactory(customer=customer, name="Ana Souza")
    ContactFactory(customer=customer, name="Bruno Lima")
    delivery, _ = make_delivery(make_campaign("nps"), contact=ana)
    response = answers.answer_record(delivery=delivery, score=3, now=timezone.now() - timedelta(hours=5))
    assert response.pk

    # when Lucas logs a call with Bruno, the loop stays open and nothing says otherwise
    # (the page's forms share field ids until the customer page gets unique ones: fields by name here)
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/customers/{customer.pk}/")
    card = page.locator("#timeline-card")
    card.locator("form[method=post] select[name=kind]").select_option("call")
    card.locator("form[method=post] input[name=title]").fill("Falei com o Bruno sobre o treinamento")
    card.locator("form[method=post] select[name=contact]").select_option(label="Bruno Lima")
    card.get_by_role("button", name="Log it").click()
    expect(card.get_by_text("Falei com o Bruno sobre o treinamento")).to_be_visible()
    expect(card.get_by_text("Loop closed")).to_have_count(0)
    assert Response.objects.get(pk=response.pk).loop_closed_at is None

    # when he logs the call back with Ana
    card = page.locator("#timeline-card")
    card.locator("form[method=post] select[name=kind]").select_option("call")
    card.locator("form[method=post] input[name=title]").fill(
        "Liguei para a Ana: o suporte demorou, combinamos um plano"
    )
    card.locator("form[method=post] select[name=contact]").select_option(label="Ana Souza")
    card.get_by_role("button", name="Log it").click()

    # then the page says the loop was closed, and it is
    expect(page.get_by_text("Loop closed: Ana Souza's NPS 3 answer")).to_be_visible()
    expect(page.locator("#timeline-card").get_by_text("with Ana Souza")).to_be_visible()
    screenshot(page, "loop-closed-on-screen")
    response.refresh_from_db()
    assert response.loop_closed_at is not None
    assert customer.tasks.get(origin="playbook").status == TaskStatus.DONE
