"""The customer page in a real browser, on a 390×844 phone and on a desktop: what a CSM acts on comes first,
inline actions update the numbers they change, and every control can be tapped and read aloud."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portfolio import services
from portfolio.models import Customer
from tests.conftest import screenshot
from tests.portfolio.factories import ContactFactory, CustomerFactory, subscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TAP = 44  # px: the smallest comfortable touch target (WCAG 2.5.5, Apple's and Google's guidelines)

# Every control of the page a finger may need, visible and shorter than a fingertip. Inline links inside a
# sentence (the breadcrumb, "report") are exempt, as WCAG exempts them.
SMALL_CONTROLS = """(min) => [...document.querySelectorAll(
    '.customer-page button, .customer-page select, .customer-page input:not([type=hidden]),'
    + ' .customer-page summary, .customer-page .contact-ways a, .customer-page .jump-links a')]
  .filter((el) => el.offsetParent !== null)
  .map((el) => [el.outerHTML.slice(0, 80), Math.round(el.getBoundingClientRect().height)])
  .filter(([, height]) => height < min)"""

DUPLICATE_IDS = """() => {
  const seen = {};
  for (const el of document.querySelectorAll('[id]')) seen[el.id] = (seen[el.id] || 0) + 1;
  return Object.entries(seen).filter(([, n]) => n > 1);
}"""

# Every id an aria-describedby names, that no element has: a description a screen reader never finds.
MISSING_DESCRIPTIONS = """() => [...document.querySelectorAll('[aria-describedby]')]
  .flatMap((el) => el.getAttribute('aria-describedby').split(/\\s+/))
  .filter((id) => id && !document.getElementById(id))"""


def a_busy_customer(org) -> Customer:
    """An onboarding customer with a long timeline, three open tasks and two contacts to call."""
    customer = CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a, implementation_manager=org.ism_a)
    subscribe(customer, amount_cents=250_000)
    ContactFactory(customer=customer, name="Ana Diretora", email="ana@padaria.com.br", phone="+55 11 98765-4321")
    ContactFactory(customer=customer, name="Bruno Campeão", email="bruno@padaria.com.br", phone="")
    for n in range(30):
        services.activity_log(
            customer=customer, kind="note", title=f"Nota de acompanhamento {n:02}", body="Conversa longa " * 12
        )
    for n in range(3):
        services.task_create(
            customer=customer, owner=org.csm_a, title=f"Ligar para a Ana {n}", due_date=timezone.localdate()
        )
    Customer.objects.filter(pk=customer.pk).update(last_touch_at=timezone.now() - timedelta(days=10))
    return customer


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_on_a_phone_tasks_and_contacts_come_first_and_every_control_is_tappable(browser, live_server, login_page, org):
    context = browser.new_context(viewport=PHONE, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    customer = a_busy_customer(org)

    # given the CSM opens the customer on a phone
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/customers/{customer.pk}/")
    screenshot(page, "customer-phone-1-first")
    height = page.evaluate("document.documentElement.scrollHeight")

    # then the tasks and the contacts are on the first screens, before the journey and the long timeline
    tasks, contacts = box(page, "#tasks-h"), box(page, "#contacts-h")
    journey, timeline = box(page, "#journey-h"), box(page, "#timeline-h")
    assert tasks["y"] < PHONE["height"], (tasks, height)
    assert tasks["y"] < contacts["y"] < journey["y"] < timeline["y"]
    assert contacts["y"] < 2 * PHONE["height"], (contacts, height)
    # and the page says where the rest is
    page.get_by_role("navigation", name="Nesta página").get_by_role("link", name="Linha do tempo").click()
    expect(page).to_have_url(f"{page.base_url}/customers/{customer.pk}/#timeline-h")

    # and a phone number calls, an email writes
    expect(page.get_by_role("link", name="+55 11 98765-4321")).to_have_attribute("href", "tel:+5511987654321")
    expect(page.get_by_role("link", name="ana@padaria.com.br")).to_have_attribute("href", "mailto:ana@padaria.com.br")

    # and every control is at least a fingertip tall
    assert page.evaluate(SMALL_CONTROLS, TAP) == []
    # and no two elements share an id
    assert page.evaluate(DUPLICATE_IDS) == []

    # when the CSM marks a task done
    page.evaluate("window.stillThisPage = true")
    expect(page.locator("#open-task-count")).to_have_text("3")
    page.get_by_role("button", name="Marcar como concluída: Ligar para a Ana 0").click()

    # then the counter follows, without reloading the page
    expect(page.locator("#open-task-count")).to_have_text("2")
    expect(page.locator(".area-tasks .list-row.done")).to_contain_text("Ligar para a Ana 0")
    assert page.evaluate("window.stillThisPage") is True
    screenshot(page, "customer-phone-2-task-done")
    context.close()


def test_logging_a_call_moves_the_last_touch_and_a_filter_that_finds_nothing_says_so(page, login_page, org):
    customer = a_busy_customer(org)
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/customers/{customer.pk}/")
    expect(page.locator("#last-touch")).to_contain_text("10 dias")
    page.evaluate("window.stillThisPage = true")

    # when the CSM logs a call from the timeline
    timeline = page.locator("#timeline-card")
    timeline.get_by_label("O quê").select_option("call")
    timeline.get_by_label("Resumo").fill("Ligação de alinhamento com a Ana")
    timeline.get_by_role("button", name="Registrar").click()

    # then the call is on the timeline and the header's last touch is today's, in the same response
    expect(timeline.get_by_text("Ligação de alinhamento com a Ana")).to_be_visible()
    expect(page.locator("#last-touch")).not_to_contain_text("10 dias")
    assert page.evaluate("window.stillThisPage") is True
    screenshot(page, "customer-desktop-1-call-logged")

    # when the timeline is filtered to a kind it has none of
    page.get_by_label("Mostrar").select_option("meeting")

    # then it says there is none of that kind, not that the timeline is empty
    expect(page.locator("#timeline")).to_contain_text("Nenhum registro do tipo “reunião”")
    expect(page.locator("#timeline")).not_to_contain_text("Nada na linha do tempo")


def test_help_and_errors_are_read_with_their_field_and_milestones_speak(page, login_page, org):
    customer = a_busy_customer(org)
    login_page(page, org.csm_a)
    page.goto(f"{page.base_url}/customers/{customer.pk}/")

    # the milestone icons are drawn without an emoji font, and named
    checklist = page.locator(".checklist")
    expect(checklist.get_by_role("img", name="pendente").first).to_be_visible()
    assert not any(icon in checklist.inner_text() for icon in "✅⚠️⏳")

    # when the churn request is sent empty
    page.get_by_text("Registrar um pedido de churn").click()
    page.get_by_role("button", name="Registrar o pedido de churn").click()

    # then its field is described by its help and its error, as a screen reader reads it
    detail = page.get_by_label("O que aconteceu exatamente")
    expect(detail).to_have_accessible_description(re.compile(r"^A causa concreta.*obrigatório", re.IGNORECASE))
    assert page.evaluate(MISSING_DESCRIPTIONS) == []
    assert page.evaluate(DUPLICATE_IDS) == []
    screenshot(page, "customer-desktop-2-churn-errors")
