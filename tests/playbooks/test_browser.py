"""A leader edits a playbook in a real browser, in Portuguese, on a desktop and on a phone: an empty step
form first (the error shows), then a task and a wait step, publishes it, starts it on a customer and finds
the run on the customer page, its task linking back to the run."""

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from playbooks import services
from playbooks.models import Run
from tests.portfolio.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Screenshots to look at: /tmp/shots/play/ on Linux.
SHOTS = Path(tempfile.gettempdir()) / "shots" / "play"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def edit_publish_and_start(page, org, prefix: str) -> None:
    # given a draft playbook of team A and a customer of Lucas
    playbook = services.playbook_create(name="Resgate do time A", team=org.team_a, actor=org.leader_a)
    customer = CustomerFactory(name="Padaria Aurora", owner=org.csm_a)

    # when the leader opens it from the navigation
    page.goto(f"{page.base_url}/")
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Playbooks").click()
    page.get_by_role("link", name="Resgate do time A").click()
    expect(page.get_by_role("heading", name="Rascunho da versão 1")).to_be_visible()

    # and sends an empty task step
    page.locator("#add-task summary").click()
    page.get_by_label("Título da tarefa").fill("")
    page.get_by_label("Prazo (dias úteis)").fill("")
    page.get_by_role("button", name="Adicionar o passo: tarefa").click()

    # then the error shows beside the field, and no step was added
    expect(page.locator("#add-task .errorlist").first).to_be_visible()
    expect(page.get_by_text("Nenhum passo ainda.")).to_be_visible()
    shot(page, f"{prefix}-1-empty-step-error")

    # when she fills it in, then adds a wait
    page.get_by_label("Título da tarefa").fill("Ligar para o sponsor")
    page.get_by_label("Prazo (dias úteis)").fill("2")
    page.get_by_role("button", name="Adicionar o passo: tarefa").click()
    expect(page.locator("#draft-step-0")).to_contain_text("Ligar para o sponsor")
    page.locator("#add-wait summary").click()
    page.get_by_label("Esperar (dias)").fill("7")
    page.get_by_role("button", name="Adicionar o passo: esperar").click()
    expect(page.locator("#draft-step-1")).to_contain_text("Esperar 7 dias")
    shot(page, f"{prefix}-2-steps")

    # and publishes it
    page.get_by_role("button", name="Publicar a versão 1").click()
    expect(page.get_by_text("Publicado: novas execuções começam com esta versão.")).to_be_visible()
    expect(page.get_by_role("heading", name="Versão publicada 1")).to_be_visible()
    shot(page, f"{prefix}-3-published")

    # when she starts it on the customer from the customer page
    page.goto(f"{page.base_url}/customers/{customer.pk}/")
    panel = page.locator("#playbook-runs")
    panel.get_by_label("Iniciar um playbook").select_option(label="Resgate do time A")
    panel.get_by_role("button", name="Iniciar", exact=True).click()

    # then the run is on the page, with its next step and date, and the task links to it
    panel = page.locator("#playbook-runs")
    expect(panel.get_by_role("link", name="Resgate do time A")).to_be_visible()
    expect(panel).to_contain_text("Próximo: a execução termina")
    run = Run.objects.get(playbook=playbook, customer=customer)
    task_row = page.locator("li", has_text="Ligar para o sponsor").first
    expect(task_row.get_by_role("link", name="playbook")).to_have_attribute("href", f"/playbooks/runs/{run.pk}/")
    panel.scroll_into_view_if_needed()
    shot(page, f"{prefix}-4-customer-run")


def test_a_leader_edits_publishes_and_starts_a_playbook_on_a_desktop(page, login_page, org):
    login_page(page, org.leader_a)
    edit_publish_and_start(page, org, "desktop")


def test_a_leader_edits_publishes_and_starts_a_playbook_on_a_phone(browser, live_server, login_page, org):
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    login_page(page, org.leader_a)
    edit_publish_and_start(page, org, "phone")
    context.close()
