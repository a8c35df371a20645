"""Tech-touch emails: the template's fields and fallbacks (and nothing else), the email through a real SMTP
server (Reply-To, List-Unsubscribe, Message-ID, both parts, the contact's language), a step run twice sending
once, the weekly cap across two playbooks, the two opt-out categories, the send window, bounces, and the
"send me a test" button."""

from datetime import datetime, timedelta
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from core import clock
from playbooks import emails, engine, mailing, services, tasks
from playbooks.mailing import SendWindow
from playbooks.models import EmailOptOut, EmailStatus, Run, StepEmail
from portfolio.models import Contact
from surveys import dispatch, planning
from surveys.models import Delivery, DeliveryStatus
from tests.conftest import SmtpInbox, free_port
from tests.playbooks.factories import email_step, live_playbook
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import active_campaign

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("America/Sao_Paulo")
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)  # inside the default window (Monday to Friday, 9:00–18:00)


def start(playbook, customer, actor, at=MONDAY) -> Run:
    with clock.at(at):
        run = services.run_start(playbook=playbook, customer=customer, actor=actor)
        engine.run_advance(run.pk)
    return run


def parts(message: Message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }


# --- The template ------------------------------------------------------------------------------------------


def test_fields_are_filled_and_an_empty_one_takes_its_fallback():
    text = 'Oi {{ contact.first_name|default:"pessoal" }}, da {{customer.name}}. {{ csm.name|default:"Equipe" }}'
    values = {"contact.first_name": "", "customer.name": "Atlas", "csm.name": "Ana Lima"}
    assert emails.fill(text, values) == "Oi pessoal, da Atlas. Ana Lima"
    assert emails.template_errors(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "{{ settings.SECRET_KEY }}",
        "{% load static %}{% debug %}",
        "{{ contact.first_name|safe }}",
        "{{ contact.__class__ }}",
        "{# a comment #}",
    ],
)
def test_anything_but_the_listed_fields_is_refused(text):
    assert emails.template_errors(text)


def test_an_email_step_with_a_tag_is_refused_by_the_editor(org, client_for):
    playbook = live_playbook(team=org.team_a)
    response = client_for(org.leader_a).post(
        reverse("playbooks:step_add", args=[playbook.pk]),
        {
            "kind": "email",
            "email-template": "Boas-vindas",
            "email-contact_role": "user",
            "email-subject_pt": "Olá",
            "email-body_pt": "{% debug %}",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "{{ contact.first_name }}" in response.content.decode()
    assert all(s.get("kind") != "email" for s in services.draft_of(playbook).steps)


# --- The email, through a real SMTP server ------------------------------------------------------------------


def test_the_email_reaches_a_real_smtp_server_in_each_contacts_language(org, smtp_server):
    inbox, _url = smtp_server
    customer = CustomerFactory(owner=org.csm_a, name="Atlas <Tech>")
    pt = ContactFactory(customer=customer, name="Bruna Souza", language="pt-br", role="champion")
    en = ContactFactory(customer=customer, name="John Smith", language="en", role="champion")
    ContactFactory(customer=customer, role="user")  # another role: no email
    playbook = live_playbook(steps=[email_step(contact_role="champion")])

    run = start(playbook, customer, org.admin)
    result = mailing.emails_send_pending(now=MONDAY + timedelta(minutes=5))

    assert result.sent == 2
    by_to = {m["To"]: m for m in inbox.wait_for(2)}
    assert set(by_to) == {pt.email, en.email}
    rows = {r.contact_id: r for r in StepEmail.objects.filter(run=run)}
    for contact, language, subject, greeting in (
        (pt, "pt-BR", "Novidades para a Atlas <Tech>", "Olá, Bruna!"),
        (en, "en", "News for Atlas <Tech>", "Hi John,"),
    ):
        message = by_to[contact.email]
        row = rows[contact.pk]
        assert row.status == EmailStatus.SENT
        assert message["Subject"] == subject
        assert message["Reply-To"] == org.csm_a.email
        assert message["Message-ID"] == f"<playbook-{row.pk}@leme.example>"
        assert message["Content-Language"] == language
        unsubscribe = emails.unsubscribe_url(row.pk)
        assert " ".join(message["List-Unsubscribe"].split()).startswith(f"<{unsubscribe}>, <mailto:")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        body = parts(message)
        assert set(body) == {"text/plain", "text/html"}
        assert greeting in body["text/plain"]
        assert org.csm_a.full_name in body["text/plain"]
        assert unsubscribe in body["text/plain"]
        assert f'href="{unsubscribe}"' in body["text/html"]
    assert "<p" in parts(by_to[pt.email])["text/html"]


def test_html_in_a_contacts_name_is_escaped_in_the_html_part(org):
    customer = CustomerFactory(owner=None)
    ContactFactory(customer=customer, name="<b>Eve</b> Doe", role="user")
    start(live_playbook(steps=[email_step()]), customer, org.admin)

    mailing.emails_send_pending(now=MONDAY + timedelta(minutes=5))

    (message,) = mail.outbox
    html = message.alternatives[0][0]
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert "<b>Eve" not in html
    assert message.reply_to == []  # no owner CSM: no Reply-To
    assert "Equipe" in message.body  # the CSM's fallback


# --- Exactly once ----------------------------------------------------------------------------------------------


def test_a_step_run_twice_and_a_send_run_twice_send_one_email(org):
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory(customer=customer, role="user")
    playbook = live_playbook(steps=[email_step(), {"kind": "wait", "days": 3}])
    run = start(playbook, customer, org.admin)
    with clock.at(MONDAY):
        engine.run_advance(run.pk)  # the same step again: nothing new
        Run.objects.filter(pk=run.pk).update(current_step=0)  # as if the pointer had not moved (a crash)
        engine.run_advance(run.pk)
    mailing.emails_send_pending(now=MONDAY + timedelta(minutes=5))
    mailing.emails_send_pending(now=MONDAY + timedelta(minutes=6))

    assert StepEmail.objects.filter(run=run).count() == 1
    assert len(mail.outbox) == 1


# --- The weekly cap ------------------------------------------------------------------------------------------


def test_the_weekly_cap_holds_back_the_third_email_whatever_the_playbook(org, client_for, settings):
    settings.LEME_PLAYBOOK_EMAIL_CAP = 2
    customer = CustomerFactory(owner=org.csm_a)
    contact = ContactFactory(customer=customer, role="user")
    onboarding = live_playbook(name="Onboarding", steps=[email_step("Boas-vindas"), email_step("Primeiros passos")])
    adoption = live_playbook(name="Adoção", steps=[email_step("Dicas")])

    start(onboarding, customer, org.admin)
    held_run = start(adoption, customer, org.admin, at=MONDAY + timedelta(hours=1))
    result = mailing.emails_send_pending(now=MONDAY + timedelta(hours=2))

    assert (result.sent, result.held) == (2, 1)
    assert len(mail.outbox) == 2
    held = StepEmail.objects.get(status=EmailStatus.HELD)
    assert held.run == held_run
    page = client_for(org.csm_a).get(reverse("playbooks:run", args=[held_run.pk]))
    assert "Retido pelo limite semanal" in page.content.decode()
    # A week later the contact may get playbook emails again; the held one is not sent late.
    nine_days = MONDAY + timedelta(days=9)
    start(live_playbook(name="Renovação", steps=[email_step("Renovação")]), customer, org.admin, at=nine_days)
    assert mailing.emails_send_pending(now=nine_days + timedelta(minutes=5)).sent == 1
    assert StepEmail.objects.filter(contact=contact, status=EmailStatus.SENT).count() == 3
    assert StepEmail.objects.get(pk=held.pk).status == EmailStatus.HELD


# --- Opt-out categories ------------------------------------------------------------------------------------


def test_a_survey_opt_out_does_not_stop_playbook_emails(org):
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory(customer=customer, role="user", opted_out_at=MONDAY - timedelta(days=30))
    start(live_playbook(steps=[email_step()]), customer, org.admin)

    assert mailing.emails_send_pending(now=MONDAY + timedelta(minutes=5)).sent == 1


def test_the_one_click_unsubscribe_stops_playbook_emails_and_keeps_surveys(org, client):
    customer = CustomerFactory(owner=org.csm_a)
    contact = ContactFactory(customer=customer, role="user")
    start(live_playbook(name="A", steps=[email_step()]), customer, org.admin)
    mailing.emails_send_pending(now=MONDAY + timedelta(minutes=5))
    first = StepEmail.objects.get()
    unsubscribe = emails.unsubscribe_url(first.pk).removeprefix("http://testserver")

    assert "Sim, quero me descadastrar" in client.get(unsubscribe).content.decode()  # the contact's language
    # RFC 8058: a POST with "List-Unsubscribe=One-Click", no cookie, no CSRF token
    response = client.post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert client.post(unsubscribe, {"List-Unsubscribe": "One-Click"}).status_code == 200  # twice: no harm

    opt_out = EmailOptOut.objects.get(contact=contact)
    assert opt_out.via == first
    contact.refresh_from_db()
    assert contact.opted_out_at is None  # surveys keep going
    start(live_playbook(name="B", steps=[email_step()]), customer, org.admin, at=MONDAY + timedelta(days=8))
    mailing.emails_send_pending(now=MONDAY + timedelta(days=8, minutes=5))
    assert len(mail.outbox) == 1
    assert StepEmail.objects.exclude(pk=first.pk).get().status == EmailStatus.OPTED_OUT
    # and a survey still reaches them
    campaign = active_campaign()
    planning.campaign_plan(campaign_id=campaign.pk)
    dispatch.deliveries_send_pending(campaign_id=campaign.pk)
    assert Delivery.objects.get(contact=contact).status == DeliveryStatus.SENT


def test_a_forged_unsubscribe_link_changes_nothing(org, client):
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory(customer=customer, role="user")
    start(live_playbook(steps=[email_step()]), customer, org.admin)
    row = StepEmail.objects.get()

    response = client.post(f"/e/{row.pk}:forged/unsubscribe/")

    assert response.status_code == 404
    assert not EmailOptOut.objects.exists()


# --- The send window ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "opens"),
    [
        ((2, 10, 0), (2, 10, 0)),  # Monday 2 March, open
        ((2, 7, 30), (2, 9, 0)),  # Monday, before nine
        ((6, 18, 0), (9, 9, 0)),  # Friday at six: Monday
        ((7, 12, 0), (9, 9, 0)),  # Saturday
    ],
)
def test_the_window_opens_on_the_next_weekday_morning(at, opens):
    window = SendWindow.parse("1-5 09:00-18:00")
    assert window.opens(datetime(2026, 3, *at, tzinfo=TZ)) == datetime(2026, 3, *opens, tzinfo=TZ)


def test_an_email_due_outside_the_window_waits_for_the_next_opening(org):
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory(customer=customer, role="user")
    friday_evening = datetime(2026, 3, 6, 19, 0, tzinfo=TZ)
    start(live_playbook(steps=[email_step()]), customer, org.admin, at=friday_evening)
    monday = datetime(2026, 3, 9, 9, 0, tzinfo=TZ)

    assert StepEmail.objects.get().next_attempt_at == monday
    saturday = mailing.emails_send_pending(now=datetime(2026, 3, 7, 10, 0, tzinfo=TZ))
    assert (saturday.sent, saturday.next_at) == (0, monday)
    assert mail.outbox == []
    assert mailing.emails_send_pending(now=monday + timedelta(minutes=1)).sent == 1


# --- Bounces -------------------------------------------------------------------------------------------------


class RefusingInbox(SmtpInbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("gone"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_address_bounces_and_suppresses_the_contact(org, settings):
    from aiosmtpd.controller import Controller

    inbox, port = RefusingInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    try:
        customer = CustomerFactory(owner=org.csm_a)
        gone = ContactFactory(customer=customer, role="user", email="gone@cliente.com.br")
        ContactFactory(customer=customer, role="user")
        start(live_playbook(steps=[email_step()]), customer, org.admin)
        result = mailing.emails_send_pending(now=MONDAY + timedelta(minutes=5))
    finally:
        controller.stop()

    assert (result.sent, result.bounced) == (1, 1)
    assert StepEmail.objects.get(contact=gone).status == EmailStatus.BOUNCED
    assert Contact.objects.get(pk=gone.pk).bounced_at is not None


# --- Send me a test ---------------------------------------------------------------------------------------------


def test_send_me_a_test_goes_to_the_person_editing_and_only_they_may(org, client_for):
    playbook = live_playbook(team=org.team_a, steps=[email_step()])

    response = client_for(org.leader_a).post(reverse("playbooks:step_test_send", args=[playbook.pk, 0]))

    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [org.leader_a.email]
    assert message.subject == "[Teste] Novidades para a Cliente de exemplo"
    assert "Message-ID" not in message.extra_headers  # not one of a contact's emails: no unsubscribe either
    assert client_for(org.csm_a).post(reverse("playbooks:step_test_send", args=[playbook.pk, 0])).status_code == 403
    assert len(mail.outbox) == 1


def test_a_late_dsn_about_a_playbook_email_bounces_it_and_its_contact(org, smtp_server):
    from surveys.bounces import apply_bounces, parse_dsn
    from tests.surveys.test_bounces import postfix_dsn

    inbox, _url = smtp_server
    customer = CustomerFactory(owner=org.csm_a)
    contact = ContactFactory(customer=customer, role="user")
    start(live_playbook(steps=[email_step()]), customer, org.admin)
    mailing.emails_send_pending(now=MONDAY + timedelta(minutes=5))
    (original,) = inbox.wait_for(1)

    dsn = postfix_dsn(original.as_bytes(), recipient=contact.email)
    first, again = apply_bounces(parse_dsn(dsn)), apply_bounces(parse_dsn(dsn))

    assert (first.bounced, again.ignored) == (1, {"already_bounced": 1})
    assert StepEmail.objects.get().status == EmailStatus.BOUNCED
    assert Contact.objects.get(pk=contact.pk).bounced_at is not None


def test_an_email_sent_again_after_a_lost_commit_is_the_same_email(org, smtp_server):
    inbox, _url = smtp_server
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory(customer=customer, role="user")
    start(live_playbook(steps=[email_step()]), customer, org.admin)
    mailing.emails_send_pending(now=MONDAY + timedelta(minutes=5))
    # the worker died between the server's "250" and the commit of the "sent" mark
    StepEmail.objects.update(status=EmailStatus.PENDING, sent_at=None)

    mailing.emails_send_pending(now=MONDAY + timedelta(minutes=10))

    first, second = inbox.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"] == emails.message_id(StepEmail.objects.get().pk)


def test_the_beats_send_job_sends_the_emails_a_step_queued(org, settings):
    settings.LEME_PLAYBOOK_EMAIL_WINDOW = "1-7 00:00-23:59"
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory(customer=customer, role="user")
    services.run_start(playbook=live_playbook(steps=[email_step()]), customer=customer, actor=org.admin)
    assert "playbooks.tasks.emails_send" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    tasks.emails_send.delay()

    assert StepEmail.objects.get().status == EmailStatus.SENT
    assert len(mail.outbox) == 1
