"""My tasks in a real browser: a task snoozed a week moves from "today" to "later" without a reload."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portfolio import services
from tests.portfolio.factories import CustomerFactory, hand_off
from tests.workday.browser import device, shot  # noqa: F401 - device is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_snoozing_a_task_moves_it_to_its_new_group(page, login_page, org, device):  # noqa: F811
    # given a CSM with a task due today and one overdue
    today = timezone.localdate()
    customer = CustomerFactory(name="Clínica Bem Viver")
    hand_off(customer, org.csm_a)
    services.task_create(customer=customer, owner=org.csm_a, title="Enviar proposta", due_date=today)
    services.task_create(customer=customer, owner=org.csm_a, title="Ligar", due_date=today - timedelta(days=2))
    login_page(page, org.csm_a)

    # when she opens My tasks from the navigation
    nav = page.get_by_role("navigation", name="Principal")
    nav.get_by_role("link", name="Tarefas").click()
    expect(page.get_by_role("heading", level=1, name="Minhas tarefas")).to_be_visible()
    today_group = page.get_by_role("region", name="Hoje")
    expect(today_group).to_contain_text("Enviar proposta")
    expect(page.locator("#count-later")).to_have_text("0")
    shot(page, f"my-tasks-before-{device}")

    # and snoozes the task a week
    today_group.get_by_role("button", name="Adiar uma semana: Enviar proposta").click()

    # then it has left "today" for "later" (or "this week" near a week's end), and says so
    expect(page.get_by_role("status").filter(has_text="movido para")).to_be_visible()
    expect(page.get_by_role("region", name="Hoje")).to_have_count(0)
    moved = page.get_by_role("region", name=re.compile("^(Depois|Esta semana)$"))
    expect(moved).to_contain_text("Enviar proposta")
    expect(page.get_by_role("region", name="Atrasadas")).to_contain_text("Ligar")
    expect(page.locator("#count-today")).to_have_text("0")
    assert page.url.endswith("/tasks/")
    shot(page, f"my-tasks-after-{device}")

    # and "More" lets her pick a day instead
    overdue = page.get_by_role("region", name="Atrasadas")
    overdue.get_by_text("Mais").click()
    overdue.get_by_label("Mover para").fill((today + timedelta(days=1)).isoformat())
    shot(page, f"my-tasks-another-day-{device}")
    overdue.get_by_role("button", name="Mover", exact=True).click()
    expect(page.get_by_role("region", name="Atrasadas")).to_have_count(0)
    expect(page.locator("#count-overdue")).to_have_text("0")
