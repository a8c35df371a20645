"""A leader writes an email step in the editor and sends herself a test, in a real browser; then the run page
with what became of each email and the contact's unsubscribe page, looked at on a desktop and on a phone."""

import tempfile
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from playbooks import emails, engine, services
from playbooks.models import EmailStatus, StepEmail
from tests.playbooks.factories import email_step, live_playbook
from tests.portfolio.factories import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(tempfile.gettempdir()) / "shots_techmail"
PHONE = {"width": 390, "height": 844}


def shots(page, name: str) -> None:
    """The page at desktop width and on a phone."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_leader_writes_an_email_step_and_sends_herself_a_test(page, login_page, org):
    # given a draft playbook of team A
    playbook = services.playbook_create(name="Boas-vindas", team=org.team_a, actor=org.leader_a)
    login_page(page, org.leader_a)
    page.goto(f"{page.base_url}/playbooks/{playbook.pk}/")

    # when she writes an email step in Portuguese, with a fallback for an empty first name
    page.locator("#add-email summary").click()
    page.get_by_label("Nome do email").fill("Primeiro contato")
    page.get_by_label("Para os contatos que são").select_option(label="Decisor")
    page.get_by_label("Assunto (português)").fill("Bem-vindos, {{ customer.name }}")
    page.get_by_label("Texto (português)").fill(
        'Olá, {{ contact.first_name|default:"pessoal" }}!\n\nSou {{ csm.name }}, conte comigo.'
    )
    shots(page, "0-email-form")
    page.get_by_role("button", name="Adicionar o passo: email").click()
    expect(page.locator("#draft-step-0")).to_contain_text("Primeiro contato")
    shots(page, "1-editor")

    # and asks for a test
    page.locator("#draft-step-0").get_by_role("button", name="Enviar um teste para mim").click()

    # then it is in her inbox, filled with her own name and an example customer
    expect(page.get_by_text(f"Teste enviado para {org.leader_a.email}.")).to_be_visible()
    (message,) = mail.outbox
    assert message.to == [org.leader_a.email]
    assert message.subject == "[Teste] Bem-vindos, Cliente de exemplo"
    assert f"Olá, {org.leader_a.full_name.split()[0]}!" in message.body

    # and a run's page says what became of each email (one sent, one held back by the weekly cap)
    customer = CustomerFactory(name="Padaria Aurora", owner=org.csm_a)
    sent_to = ContactFactory(customer=customer, name="Bruna Souza", role="user")
    held_for = ContactFactory(customer=customer, name="Carlos Dias", role="user")
    run = services.run_start(playbook=live_playbook(steps=[email_step()]), customer=customer, actor=org.admin)
    engine.run_advance(run.pk)
    StepEmail.objects.filter(contact=sent_to).update(status=EmailStatus.SENT, sent_at=timezone.now())
    StepEmail.objects.filter(contact=held_for).update(status=EmailStatus.HELD)
    page.goto(f"{page.base_url}/playbooks/runs/{run.pk}/")
    expect(page.locator(f"#step-email-{StepEmail.objects.get(contact=held_for).pk}")).to_contain_text(
        "Retido pelo limite semanal"
    )
    shots(page, "2-run")

    # and the contact's unsubscribe page asks before acting
    row = StepEmail.objects.get(contact=sent_to)
    page.goto(emails.unsubscribe_url(row.pk).replace("http://testserver", page.base_url))
    expect(page.get_by_role("heading", name="Não quero mais receber estes emails")).to_be_visible()
    shots(page, "3-unsubscribe")
