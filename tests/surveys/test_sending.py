"""Sending surveys (surveys.planning, surveys.dispatch, surveys.reminders, surveys.tasks) to a real SMTP
server: who is surveyed and who is skipped, what the email says and carries, reminders, and what the SMTP
server's refusals do."""

import asyncio
import itertools
import re
import smtplib
import threading
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.celery import app
from core.mail import pacing
from core.mail.smtp import send_prebuilt
from portfolio import services as portfolio_services
from surveys import dispatch, messages, planning, reminders, scheduling, tasks, tokens, triggers
from surveys.models import CampaignMode, Delivery, DeliveryStatus, SkipReason
from tests.conftest import free_port
from tests.portfolio.factories import ContactFactory, CustomerFactory, hand_off
from tests.surveys.factories import (
    CampaignFactory,
    DeliveryFactory,
    ResponseFactory,
    activate,
    active_campaign,
    token_of,
)

pytestmark = pytest.mark.django_db

SCORE_LINK = re.compile(r"^http://testserver/s/(?P<token>[A-Za-z0-9_-]{43})/\?score=(?P<score>\d+)$")


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.LEME_SURVEY_SEND_RATE = 0


def parts(message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }


def unfold(header: str) -> str:
    return re.sub(r"\r?\n", "", header).strip()


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def recipients(inbox) -> Counter:
    return Counter(address for envelope in inbox.envelopes for address in envelope.rcpt_tos)


def smtp_rules(inbox, rule):
    """Make the SMTP server answer RCPT TO with ``rule(address, nth_time_seen)`` (None: accept)."""
    seen: Counter = Counter()

    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        seen[address] += 1
        reply = rule(address, seen[address])
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    inbox.handle_RCPT = handle_RCPT
    return seen


def run(campaign, **kwargs):
    planning.campaign_plan(campaign_id=campaign.pk)
    return dispatch.deliveries_send_pending(campaign_id=campaign.pk, **kwargs)


# --- The email -------------------------------------------------------------------------------------------


def test_the_survey_email_carries_the_scores_the_names_and_one_click_unsubscribe(org, smtp_server):
    inbox, _url = smtp_server
    customer = CustomerFactory(name="Padaria Estrela", owner=org.csm_a)
    ContactFactory(customer=customer, name="Ana Ribeiro", email="ana@padaria.com.br", language="en")
    campaign = active_campaign(kind="nps", company="Acme")

    result = run(campaign)

    assert result.sent == 1
    [message] = inbox.wait_for(1)
    delivery = Delivery.objects.get()
    token = token_of(delivery)
    assert tokens.token_hash(token) == delivery.token_hash
    assert message["To"] == "ana@padaria.com.br"
    assert message["Message-ID"] == f"<survey-{delivery.pk}@leme.example>"
    assert unfold(message["List-Unsubscribe"]) == (
        f"<http://testserver/s/{token}/unsubscribe/>, <mailto:unsubscribe@leme.example?subject=unsubscribe%20{token}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Reply-To"] == org.csm_a.email
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    links = hrefs(body["text/html"])
    scores = [SCORE_LINK.match(link) for link in links[:-1]]
    assert [int(m["score"]) for m in scores] == list(range(11))
    assert {m["token"] for m in scores} == {token}
    assert links[-1] == f"http://testserver/s/{token}/unsubscribe/"
    # the plain-text part carries the same links and nothing else in any URL
    assert re.findall(r"https?://\S+", body["text/plain"]) == links
    for text in body.values():
        assert "Lucas Almeida" in text
        assert "Padaria Estrela" in text
        assert "Hello Ana," in text
        assert "how likely are you to recommend Acme" in text


def test_nps_buttons_are_red_yellow_green(org, smtp_server):
    inbox, _url = smtp_server
    ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign(kind="nps")

    run(campaign)

    html = parts(inbox.wait_for(1)[0])["text/html"]
    buttons = re.findall(r'bgcolor="(#[0-9a-f]{6})"[^>]*><a href="[^"]+\?score=(\d+)"', html)
    colour = {int(score): background for background, score in buttons}
    assert {colour[n] for n in range(7)} == {"#c8372d"}
    assert {colour[7], colour[8]} == {"#f2b705"}
    assert {colour[9], colour[10]} == {"#1f8a4c"}


def test_each_contact_gets_the_email_in_their_language(org, smtp_server):
    inbox, _url = smtp_server
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory(customer=customer, email="pt@cliente.com.br", language="pt-br")
    ContactFactory(customer=customer, email="en@cliente.com.br", language="en")
    campaign = active_campaign(kind="csat", scale_max=5)

    run(campaign)

    messages = {m["To"]: m for m in inbox.wait_for(2)}
    portuguese, english = messages["pt@cliente.com.br"], messages["en@cliente.com.br"]
    assert portuguese["Content-Language"] == "pt-BR"
    assert english["Content-Language"] == "en"
    assert english["Subject"] == "How satisfied are you? One quick question"
    assert parts(portuguese)["text/plain"].startswith("Olá, ")
    assert parts(english)["text/plain"].startswith("Hello ")
    assert campaign.question_pt in parts(portuguese)["text/plain"]
    assert campaign.question_en not in parts(portuguese)["text/plain"]
    assert campaign.question_en in parts(english)["text/plain"]
    assert '<html lang="pt-br">' in parts(portuguese)["text/html"]
    assert '<html lang="en">' in parts(english)["text/html"]


@pytest.mark.parametrize(
    ("kind", "scale_max", "scores"),
    [("csat", 5, range(1, 6)), ("csat", 10, range(1, 11)), ("ces", 7, range(1, 8)), ("enps", 10, range(11))],
)
def test_the_buttons_follow_the_scale_of_the_kind(org, kind, scale_max, scores):
    campaign = CampaignFactory(kind=kind, scale_max=scale_max)
    delivery = DeliveryFactory(campaign=campaign, status=DeliveryStatus.PENDING, sent_at=None)

    html = messages.SurveyEmails(campaign).message(delivery).alternatives[0][0]

    linked = [int(m["score"]) for m in map(SCORE_LINK.match, hrefs(html)) if m]
    assert linked == list(scores)


def test_chi_has_one_answer_button_and_no_score(org):
    campaign = CampaignFactory(kind="chi")
    delivery = DeliveryFactory(campaign=campaign, status=DeliveryStatus.PENDING, sent_at=None)

    message = messages.SurveyEmails(campaign).message(delivery)

    token = token_of(delivery)
    assert hrefs(message.alternatives[0][0]) == [
        f"http://testserver/s/{token}/",
        f"http://testserver/s/{token}/unsubscribe/",
    ]
    assert "score=" not in message.body


# --- Who is surveyed -------------------------------------------------------------------------------------


def test_fatigue_skips_contacts_surveyed_recently_by_any_campaign(org, smtp_server):
    # given a contact surveyed 30 days ago and one 100 days ago by another campaign
    inbox, _url = smtp_server
    customer = CustomerFactory(owner=org.csm_a)
    recent = ContactFactory(customer=customer)
    long_ago = ContactFactory(customer=customer)
    never = ContactFactory(customer=customer)
    DeliveryFactory(contact=recent, sent_at=timezone.now() - timedelta(days=30))
    DeliveryFactory(contact=long_ago, sent_at=timezone.now() - timedelta(days=100))
    campaign = active_campaign(kind="nps", fatigue_days=90)

    # when
    result = run(campaign)

    # then
    assert result.sent == 2
    assert recipients(inbox) == Counter({long_ago.email: 1, never.email: 1})
    skipped = Delivery.objects.get(campaign=campaign, contact=recent)
    assert (skipped.status, skipped.skip_reason) == (DeliveryStatus.SKIPPED, SkipReason.FATIGUE)


def test_opted_out_bounced_and_emailless_contacts_are_skipped_with_the_reason(org, smtp_server):
    inbox, _url = smtp_server
    customer = CustomerFactory(owner=org.csm_a)
    reachable = ContactFactory(customer=customer)
    opted_out = ContactFactory(customer=customer)
    bounced = ContactFactory(customer=customer)
    no_email = ContactFactory(customer=customer, email="")
    portfolio_services.contact_update(contact=opted_out, actor=None, opted_out_at=timezone.now())
    portfolio_services.contact_update(contact=bounced, actor=None, bounced_at=timezone.now())
    campaign = active_campaign()

    run(campaign)

    assert recipients(inbox) == Counter({reachable.email: 1})
    reasons = dict(
        Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SKIPPED).values_list("contact", "skip_reason")
    )
    assert reasons == {
        opted_out.pk: SkipReason.OPTED_OUT,
        bounced.pk: SkipReason.BOUNCED,
        no_email.pk: SkipReason.NO_EMAIL,
    }


def test_a_contact_who_opts_out_after_planning_is_not_sent_to(org, smtp_server):
    inbox, _url = smtp_server
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign()
    planning.campaign_plan(campaign_id=campaign.pk)
    portfolio_services.contact_update(contact=contact, actor=None, opted_out_at=timezone.now())

    result = dispatch.deliveries_send_pending(campaign_id=campaign.pk)

    assert (result.sent, result.skipped) == (0, 1)
    assert inbox.messages == []
    assert Delivery.objects.get().skip_reason == SkipReason.OPTED_OUT


def test_planning_and_sending_twice_surveys_nobody_twice(org, smtp_server):
    inbox, _url = smtp_server
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory.create_batch(3, customer=customer)
    campaign = active_campaign()

    first = run(campaign)
    second = run(campaign)

    assert (first.sent, second.sent) == (3, 0)
    assert Delivery.objects.filter(campaign=campaign).count() == 3
    assert set(recipients(inbox).values()) == {1}
    assert planning.campaign_plan(campaign_id=campaign.pk) is None


def test_recurring_campaigns_ask_each_contact_again_every_n_days(org, smtp_server):
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign(mode=CampaignMode.RECURRING, every_days=30, fatigue_days=0)
    start = timezone.now()

    planning.campaign_plan(campaign_id=campaign.pk, now=start)
    planning.campaign_plan(campaign_id=campaign.pk, now=start + timedelta(days=10))
    planning.campaign_plan(campaign_id=campaign.pk, now=start + timedelta(days=31))

    assert list(Delivery.objects.filter(contact=contact).values_list("round", flat=True)) == [1, 2]


def test_enps_goes_to_employees_in_their_language_without_opt_out(org, smtp_server):
    inbox, _url = smtp_server
    org.csm_b.language = "en"
    org.csm_b.save()
    campaign = active_campaign(kind="enps", audience={"owners": [org.csm_a.pk, org.csm_b.pk]})

    run(campaign)

    messages = {m["To"]: m for m in inbox.wait_for(2)}
    assert set(messages) == {org.csm_a.email, org.csm_b.email}
    assert messages[org.csm_b.email]["Content-Language"] == "en"
    assert messages[org.csm_a.email]["List-Unsubscribe"] is None
    assert "Hello Camila," in parts(messages[org.csm_b.email])["text/plain"]
    deliveries = Delivery.objects.filter(campaign=campaign)
    assert {d.employee_id for d in deliveries} == {org.csm_a.pk, org.csm_b.pk}
    assert {d.contact_id for d in deliveries} == {None}


# --- Reminders -------------------------------------------------------------------------------------------


def test_one_reminder_goes_only_to_non_responders_after_the_wait(org, smtp_server):
    # given five deliveries of a campaign that reminds after 4 days
    inbox, _url = smtp_server
    campaign = active_campaign(reminder_after_days=4)
    customer = CustomerFactory(owner=org.csm_a)
    five_days_ago = timezone.now() - timedelta(days=5)
    silent = DeliveryFactory(
        campaign=campaign, contact=ContactFactory(customer=customer, language="en"), sent_at=five_days_ago
    )
    answered = DeliveryFactory(campaign=campaign, contact=ContactFactory(customer=customer), sent_at=five_days_ago)
    ResponseFactory(delivery=answered)
    DeliveryFactory(campaign=campaign, contact=ContactFactory(customer=customer), sent_at=timezone.now())
    DeliveryFactory(
        campaign=campaign, contact=ContactFactory(customer=customer), sent_at=five_days_ago, reminded_at=five_days_ago
    )
    opted_out = DeliveryFactory(campaign=campaign, contact=ContactFactory(customer=customer), sent_at=five_days_ago)
    portfolio_services.contact_update(contact=opted_out.contact, actor=None, opted_out_at=timezone.now())

    # when the reminder job runs twice
    first = reminders.reminders_send_due()
    second = reminders.reminders_send_due()

    # then only the silent one got a reminder, once
    assert (first.sent, second.sent) == (1, 0)
    [message] = inbox.messages
    assert message["To"] == silent.email
    assert message["Subject"].startswith("Reminder: ")
    assert message["Message-ID"] == f"<survey-{silent.pk}-reminder@leme.example>"
    text = parts(message)["text/plain"]
    assert text.startswith("A quick reminder")
    assert f"http://testserver/s/{token_of(silent)}/?score=10" in text
    silent.refresh_from_db()
    assert silent.reminded_at is not None


# --- The SMTP server's answers ---------------------------------------------------------------------------


def test_a_recipient_refused_for_good_bounces_and_is_never_emailed_again(org, smtp_server):
    inbox, _url = smtp_server
    smtp_rules(inbox, lambda address, nth: "550 5.1.1 Mailbox does not exist" if address.startswith("gone@") else None)
    customer = CustomerFactory(owner=org.csm_a)
    gone = ContactFactory(customer=customer, email="gone@cliente.com.br")
    alive = ContactFactory(customer=customer)
    campaign = active_campaign()

    result = run(campaign)

    assert (result.sent, result.bounced) == (1, 1)
    assert recipients(inbox) == Counter({alive.email: 1})
    delivery = Delivery.objects.get(contact=gone)
    assert delivery.status == DeliveryStatus.BOUNCED
    assert delivery.last_error.startswith("550 5.1.1")
    gone.refresh_from_db()
    assert gone.bounced_at is not None
    later = active_campaign(fatigue_days=0)
    run(later)
    assert Delivery.objects.get(campaign=later, contact=gone).skip_reason == SkipReason.BOUNCED


def test_a_temporary_refusal_is_retried_after_a_wait_and_sent_once(org, smtp_server):
    # given a server that answers 451 the first time it sees one address
    inbox, _url = smtp_server
    seen = smtp_rules(inbox, lambda address, nth: "451 4.7.1 Try again later" if nth == 1 else None)
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign()

    # when the first run meets the refusal
    first = run(campaign)

    # then the delivery waits, and nothing went out
    delivery = Delivery.objects.get()
    assert (first.sent, first.deferred) == (0, 1)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("451")
    assert first.retry_at == delivery.next_attempt_at > timezone.now()
    assert dispatch.deliveries_send_pending(campaign_id=campaign.pk).sent == 0

    # and the run after the wait sends it, once
    second = dispatch.deliveries_send_pending(campaign_id=campaign.pk, now=delivery.next_attempt_at)
    assert second.sent == 1
    assert recipients(inbox) == Counter({contact.email: 1})
    assert seen[contact.email] == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 2, "")


def test_temporary_refusals_fail_the_delivery_once_the_attempts_run_out(org, smtp_server, settings):
    settings.LEME_SURVEY_MAX_ATTEMPTS = 2
    inbox, _url = smtp_server
    smtp_rules(inbox, lambda address, nth: "452 4.2.2 Mailbox full")
    ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign()

    run(campaign)
    delivery = Delivery.objects.get()
    dispatch.deliveries_send_pending(campaign_id=campaign.pk, now=delivery.next_attempt_at)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)


def test_an_unreachable_server_leaves_everything_pending_for_the_task_retry(org, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign()
    planning.campaign_plan(campaign_id=campaign.pk)

    with pytest.raises(ConnectionRefusedError) as error:
        dispatch.deliveries_send_pending(campaign_id=campaign.pk)

    assert isinstance(error.value, tasks.deliveries_send.autoretry_for)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)


@pytest.mark.django_db(transaction=True)
def test_a_second_sender_of_a_campaign_finds_it_busy_and_sends_nothing(org, smtp_server):
    # given a campaign whose send another worker holds (its session holds the campaign's lock)
    inbox, _url = smtp_server
    ContactFactory.create_batch(2, customer=CustomerFactory(owner=org.csm_a))
    # "at" a past time: activating it queues nothing (a "now" campaign would send at once here)
    campaign = active_campaign(mode=CampaignMode.AT, send_at=timezone.now())
    planning.campaign_plan(campaign_id=campaign.pk)
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [dispatch.SEND_LOCK, campaign.pk])
            locked.set()
            release.wait(10)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [dispatch.SEND_LOCK, campaign.pk])
        connections["default"].close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    locked.wait(10)

    # when this worker sends
    try:
        busy = dispatch.deliveries_send_pending(campaign_id=campaign.pk)
    finally:
        release.set()
        thread.join()

    # then it stops at once, and the campaign's own sender (once it has the lock) sends everything
    assert (busy.busy, busy.sent, len(inbox.messages)) == (True, 0, 0)
    assert dispatch.deliveries_send_pending(campaign_id=campaign.pk).sent == 2
    assert len(inbox.messages) == 2


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_each_sent_mark_is_written_behind_its_email_on_another_connection(org, smtp_server):
    # given 30 contacts, one refused for good and one refused for now
    inbox, _url = smtp_server
    smtp_rules(
        inbox,
        lambda address, nth: (
            "550 5.1.1 No such user"
            if address.startswith("gone@")
            else "451 4.7.1 Later"
            if "later@" in address
            else None
        ),
    )
    customer = CustomerFactory(owner=org.csm_a)
    ContactFactory.create_batch(28, customer=customer)
    ContactFactory(customer=customer, email="gone@cliente.com.br")
    ContactFactory(customer=customer, email="later@cliente.com.br")
    campaign = active_campaign(mode=CampaignMode.AT, send_at=timezone.now(), expires_after_days=10)
    planning.campaign_plan(campaign_id=campaign.pk)

    # when the campaign is sent outside any transaction (as a worker does)
    with CaptureQueriesContext(connections["default"]) as queries:
        result = dispatch.deliveries_send_pending(campaign_id=campaign.pk)

    # then every accepted email is recorded as sent by the time the run returns
    assert (result.sent, result.bounced, result.deferred, result.more_due) == (28, 1, 1, False)
    assert len(inbox.messages) == 28
    sent = Delivery.objects.filter(status=DeliveryStatus.SENT)
    assert sent.count() == 28
    for delivery in sent:
        assert delivery.attempts == 1
        assert delivery.expires_at == delivery.sent_at + timedelta(days=10)
    assert Delivery.objects.get(email="gone@cliente.com.br").status == DeliveryStatus.BOUNCED
    assert Delivery.objects.get(email="later@cliente.com.br").next_attempt_at is not None
    # and the sender's own connection ran no statement per accepted email: the marks went on another
    marking = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "'sent'" in q["sql"]]
    assert marking == []
    assert len(queries.captured_queries) < 28
    assert not [t for t in threading.enumerate() if t.name == "survey-sent-marks"]


@pytest.mark.django_db(transaction=True)
def test_marks_that_cannot_be_written_stop_the_run_and_leave_the_rows_to_send_again(org, smtp_server, monkeypatch):
    inbox, _url = smtp_server
    ContactFactory.create_batch(60, customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign(mode=CampaignMode.AT, send_at=timezone.now())
    planning.campaign_plan(campaign_id=campaign.pk)

    def database_gone(self, connection, marks):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(dispatch.SurveySentMarks, "write", database_gone)

    with pytest.raises(dispatch.MarksFailed):
        dispatch.deliveries_send_pending(campaign_id=campaign.pk)

    # nothing is recorded as sent: the next run sends those rows again, with the same Message-IDs
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    assert len(inbox.messages) > 0
    # and once a write has failed, the next email's hand-over raises: the run stops at the next email
    marks = dispatch.SurveySentMarks(expires_after_days=30)
    marks.add(1, timezone.now())
    with pytest.raises(dispatch.MarksFailed):
        marks.flush()
    with pytest.raises(dispatch.MarksFailed):
        marks.add(2, timezone.now())
    marks.close(quiet=True)


def sessions_of(inbox, *, delay: float = 0.0) -> Counter:
    """Count the messages each SMTP connection (its client port) carried; the server takes ``delay`` s to
    accept each, so that an email on one connection is still in the server's hands when the next one comes."""
    carried: Counter = Counter()
    accept = inbox.handle_DATA

    async def handle_DATA(server, session, envelope):
        carried[session.peer] += 1
        if delay:
            await asyncio.sleep(delay)
        return await accept(server, session, envelope)

    inbox.handle_DATA = handle_DATA
    return carried


@pytest.mark.django_db(transaction=True)
def test_a_worker_sends_on_several_connections_at_once_each_contact_once(org, smtp_server, settings):
    # given 24 contacts, three connections a worker, a server that takes 20 ms to accept each email
    settings.LEME_SURVEY_SMTP_CONNECTIONS = 3
    inbox, _url = smtp_server
    carried = sessions_of(inbox, delay=0.02)
    contacts = ContactFactory.create_batch(24, customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign(mode=CampaignMode.AT, send_at=timezone.now())

    # when the campaign is sent outside any transaction (as a worker does)
    result = run(campaign)

    # then the emails went out on the three connections, every contact once, each with its own Message-ID,
    # with the headers of the email on one connection, and every delivery is recorded as sent
    assert (result.sent, result.more_due) == (24, False)
    assert len(carried) == 3
    assert all(count >= 2 for count in carried.values())
    assert recipients(inbox) == Counter({c.email: 1 for c in contacts})
    assert len({m["Message-ID"] for m in inbox.messages}) == 24
    assert {m["Message-ID"] for m in inbox.messages} == {
        messages.message_id(pk) for pk in Delivery.objects.values_list("pk", flat=True)
    }
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in inbox.messages)
    assert all(unfold(m["List-Unsubscribe"]).startswith("<http://testserver/s/") for m in inbox.messages)
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 24


@pytest.mark.django_db(transaction=True)
def test_each_connection_carries_at_most_one_batch_of_emails(org, smtp_server, settings):
    settings.LEME_SURVEY_SMTP_CONNECTIONS = 2
    settings.LEME_SURVEY_BATCH_SIZE = 4
    inbox, _url = smtp_server
    carried = sessions_of(inbox)
    contacts = ContactFactory.create_batch(17, customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign(mode=CampaignMode.AT, send_at=timezone.now())

    result = run(campaign)

    assert result.sent == 17
    assert max(carried.values()) <= 4
    assert len(carried) >= 5  # 17 emails, at most 4 a connection
    assert recipients(inbox) == Counter({c.email: 1 for c in contacts})


@pytest.mark.django_db(transaction=True)
def test_several_connections_keep_the_one_pace(org, smtp_server, settings, pace_key):
    # given a pace of 50 emails a second kept in Redis and four connections
    settings.LEME_SURVEY_SEND_RATE = 50
    settings.LEME_SURVEY_PACE_KEY = pace_key
    settings.LEME_SURVEY_SMTP_CONNECTIONS = 4
    inbox, _url = smtp_server
    ContactFactory.create_batch(11, customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign(mode=CampaignMode.AT, send_at=timezone.now())
    planning.campaign_plan(campaign_id=campaign.pk)

    # when they send 11 emails
    started = time.monotonic()
    result = dispatch.deliveries_send_pending(campaign_id=campaign.pk)

    # then the 11 slots are 20 ms apart whichever connection took them: 200 ms at least
    assert result.sent == 11
    assert time.monotonic() - started >= 0.19
    assert len(inbox.messages) == 11


@pytest.mark.django_db(transaction=True)
def test_a_sender_refused_on_one_connection_stops_every_connection_and_leaves_the_rows_pending(
    org, smtp_server, settings
):
    # given a server that refuses our envelope sender for good (the configuration's fault, not an email's)
    settings.LEME_SURVEY_SMTP_CONNECTIONS = 3
    inbox, _url = smtp_server

    async def handle_MAIL(server, session, envelope, address, mail_options):
        return "550 5.7.1 Sender not allowed"

    inbox.handle_MAIL = handle_MAIL
    ContactFactory.create_batch(12, customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign(mode=CampaignMode.AT, send_at=timezone.now())
    planning.campaign_plan(campaign_id=campaign.pk)

    # when the campaign is sent, the error is raised in the sender's thread
    with pytest.raises(smtplib.SMTPSenderRefused):
        dispatch.deliveries_send_pending(campaign_id=campaign.pk)

    # and nothing was sent or marked: every row waits for the next run
    assert len(inbox.messages) == 0
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


# --- Transactional sends and the tasks -------------------------------------------------------------------


def test_a_handoff_surveys_the_customers_contacts_after_commit(org, smtp_server, django_capture_on_commit_callbacks):
    inbox, _url = smtp_server
    customer = CustomerFactory(implementation_manager=org.ism_a)
    contacts = ContactFactory.create_batch(2, customer=customer)
    ContactFactory(customer=CustomerFactory())  # another customer's contact is not surveyed
    active_campaign(kind="csat", scale_max=5, mode=CampaignMode.TRANSACTIONAL, trigger="handoff")

    with django_capture_on_commit_callbacks(execute=True):
        hand_off(customer, org.csm_a)

    assert recipients(inbox) == Counter({c.email: 1 for c in contacts})
    assert "Lucas Almeida" in parts(inbox.messages[0])["text/plain"]


def test_send_to_contact_surveys_one_contact_then_respects_fatigue(
    org, smtp_server, django_capture_on_commit_callbacks
):
    inbox, _url = smtp_server
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign(kind="csat", scale_max=5, mode=CampaignMode.TRANSACTIONAL, trigger="api")

    with django_capture_on_commit_callbacks(execute=True):
        first = triggers.send_to_contact(campaign=campaign, contact=contact)
    second = triggers.send_to_contact(campaign=campaign, contact=contact)

    assert (first.round, first.status) == (1, DeliveryStatus.PENDING)
    assert (second.round, second.status, second.skip_reason) == (2, DeliveryStatus.SKIPPED, SkipReason.FATIGUE)
    assert recipients(inbox) == Counter({contact.email: 1})
    first.refresh_from_db()
    assert first.status == DeliveryStatus.SENT


def test_send_to_contact_refuses_a_campaign_that_is_not_an_active_event_campaign(org):
    contact = ContactFactory()
    draft = CampaignFactory(mode=CampaignMode.TRANSACTIONAL, trigger="api")
    one_shot = active_campaign(mode=CampaignMode.AT, send_at=timezone.now() + timedelta(days=1))

    for campaign in (draft, one_shot):
        with pytest.raises(ValidationError):
            triggers.send_to_contact(campaign=campaign, contact=contact)
    assert not Delivery.objects.exists()


def test_activating_a_campaign_queues_its_run_on_commit(org, smtp_server, django_capture_on_commit_callbacks):
    inbox, _url = smtp_server
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    campaign = CampaignFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        activate(campaign)
    assert len(callbacks) == 1
    assert inbox.messages == []
    callbacks[0]()

    assert recipients(inbox) == Counter({contact.email: 1})


def test_campaigns_due_starts_timed_and_recurring_campaigns_and_stalled_sends(org):
    now = timezone.now()
    due_at = active_campaign(mode=CampaignMode.AT, send_at=now - timedelta(minutes=1))
    later = active_campaign(mode=CampaignMode.AT, send_at=now + timedelta(days=1))
    recurring = active_campaign(mode=CampaignMode.RECURRING, every_days=90, fatigue_days=0)
    stalled = active_campaign(mode=CampaignMode.AT, send_at=now - timedelta(days=1))
    ContactFactory()
    planning.campaign_plan(campaign_id=stalled.pk)
    planning.campaign_plan(campaign_id=recurring.pk)

    to_plan, to_send = scheduling.campaigns_due()

    assert set(to_plan) == {due_at.pk}
    assert later.pk not in to_plan
    assert to_send == sorted([stalled.pk, recurring.pk])
    assert set(scheduling.campaigns_due(now=now + timedelta(hours=2))[0]) == {recurring.pk, due_at.pk}


def test_the_beat_checks_campaigns_every_few_minutes_and_reminders_hourly():
    schedule = app.conf.beat_schedule
    assert schedule["surveys.campaigns_due"]["task"] == "surveys.tasks.campaigns_due"
    assert schedule["surveys.campaigns_due"]["schedule"] <= 5 * 60
    assert schedule["surveys.reminders_send"]["task"] == "surveys.tasks.reminders_send"


def test_the_send_rate_is_kept():
    pacer = pacing.Pacer(50)
    started = time.monotonic()

    for _ in range(11):
        pacer.wait()

    assert time.monotonic() - started >= 0.19


# --- The prebuilt message is the Django message ---------------------------------------------------------


def _comparable(data: bytes) -> tuple[list, list, dict]:
    """Everything but the Date, the MIME boundary and the parts' transfer encoding (the prebuilt bytes
    always say 8bit; Django says 7bit when a part happens to be plain ASCII)."""
    message = message_from_bytes(data)
    headers = [(k, unfold(v)) for k, v in message.items() if k not in ("Date", "Content-Type")]
    part_headers = [
        [(k, v) for k, v in part.items() if k != "Content-Transfer-Encoding"]
        for part in message.walk()
        if not part.is_multipart()
    ]
    return [*headers, ("Content-Type", message.get_content_type())], part_headers, parts(message)


@pytest.mark.parametrize("language", ["pt-br", "en"])
@pytest.mark.parametrize("reminder", [False, True])
def test_the_prebuilt_bytes_are_what_django_would_send(org, language, reminder):
    campaign = CampaignFactory(kind="nps")
    customer = CustomerFactory(name="Pães & Cia <Ltda>", owner=org.csm_a)
    contact = ContactFactory(customer=customer, name="João Müller", language=language)
    delivery = DeliveryFactory(campaign=campaign, contact=contact)
    emails = messages.SurveyEmails(campaign)

    to, data = emails.raw(delivery, reminder=reminder)

    django_bytes = emails.message(delivery, reminder=reminder).message().as_bytes(linesep="\r\n")
    assert to == contact.email
    assert _comparable(data) == _comparable(django_bytes)
    assert "Pães &amp; Cia &lt;Ltda&gt;" in parts(message_from_bytes(data))["text/html"]


def test_the_prebuilt_bytes_match_for_employees_and_customers_without_a_csm(org):
    enps = CampaignFactory(kind="enps")
    chi = CampaignFactory(kind="chi")
    deliveries = [
        (enps, DeliveryFactory(campaign=enps, contact=None, employee=org.csm_b)),
        # A fixed name: a generated one may end in a full stop ("Dr."), which takes Django's own path on purpose.
        (
            chi,
            DeliveryFactory(
                campaign=chi, contact=ContactFactory(customer=CustomerFactory(owner=None), name="Ana Souza")
            ),
        ),
    ]

    for campaign, delivery in deliveries:
        emails = messages.SurveyEmails(campaign)
        _to, data = emails.raw(delivery)
        django_bytes = emails.message(delivery).message().as_bytes(linesep="\r\n")
        assert _comparable(data) == _comparable(django_bytes)


def test_prebuilt_bytes_go_out_as_smtplib_would_send_them(smtp_server):
    # given a message with a line that starts with a dot, and two recipients, one plain, one not
    inbox, url = smtp_server
    payload = b"Subject: Oi\r\nTo: x@example.com\r\n\r\n.a line with a dot first\r\n..two\r\nend"
    with smtplib.SMTP("127.0.0.1", int(url.rpartition(":")[2])) as client:
        # when each is sent on the same connection
        send_prebuilt(client, "<no-reply@leme.example>", "ana@example.com", payload)
        send_prebuilt(client, "<no-reply@leme.example>", "Ana Souza <ana.souza@example.com>", payload)

        # then the server received the message as written (the dots restored) for each address
        assert [envelope.rcpt_tos for envelope in inbox.envelopes] == [
            ["ana@example.com"],
            ["ana.souza@example.com"],
        ]
        assert [envelope.mail_from for envelope in inbox.envelopes] == ["no-reply@leme.example"] * 2
        assert all(m.get_payload() == ".a line with a dot first\r\n..two\r\nend\r\n" for m in inbox.messages)


def test_very_long_names_take_djangos_own_path(org):
    campaign = CampaignFactory()
    contact = ContactFactory(customer=CustomerFactory(name="&" * 150, owner=org.csm_a))
    delivery = DeliveryFactory(campaign=campaign, contact=contact)

    assert messages.SurveyEmails(campaign).raw(delivery) is None


def test_each_email_costs_the_same_few_queries(org, smtp_server):
    # given three campaigns reaching 2, 4 and 8 contacts (no fatigue, so each reaches everyone so far)
    customer = CustomerFactory(owner=org.csm_a)
    queries = []
    for added in (2, 2, 4):
        ContactFactory.create_batch(added, customer=customer)
        campaign = active_campaign(fatigue_days=0)
        planning.campaign_plan(campaign_id=campaign.pk)

        # when each is sent
        with CaptureQueriesContext(connections["default"]) as captured:
            result = dispatch.deliveries_send_pending(campaign_id=campaign.pk)
        queries.append((result.sent, len(captured)))

    # then every email adds the same number of queries: its own transaction and the one UPDATE
    (two, at_two), (four, at_four), (eight, at_eight) = queries
    assert (two, four, eight) == (2, 4, 8)
    per_email = (at_four - at_two) / 2
    assert (at_eight - at_four) / 4 == per_email
    assert per_email <= 3  # SAVEPOINT (a transaction outside tests), the claiming UPDATE, RELEASE


def test_the_beat_task_starts_a_timed_campaign_and_sends_it_in_batches(org, smtp_server, settings):
    settings.LEME_SURVEY_BATCH_SIZE = 2
    inbox, _url = smtp_server
    contacts = ContactFactory.create_batch(5, customer=CustomerFactory(owner=org.csm_a))
    campaign = active_campaign(mode=CampaignMode.AT, send_at=timezone.now() - timedelta(minutes=1))

    queued = tasks.campaigns_due.delay().get()

    assert queued == {"plan": [campaign.pk], "send": []}
    assert recipients(inbox) == Counter({c.email: 1 for c in contacts})
    assert tasks.campaigns_due.delay().get() == {"plan": [], "send": []}


# --- The pace ---------------------------------------------------------------------------------------------


@pytest.fixture
def pace_key(settings):
    import redis

    key = f"leme:test:send-pace:{time.monotonic_ns()}"
    yield key
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(key)


def test_every_sender_takes_the_next_slot_of_one_pace_kept_in_redis(settings, pace_key):
    # given two workers' pacers at one email every 10 seconds, sharing the pace
    first, second = (pacing.SharedPacer(0.1, url=settings.CELERY_BROKER_URL, key=pace_key) for _ in range(2))

    # when they ask for slots in turn, faster than the pace
    reservations = [pacer.reserve() for pacer in (first, second, first, second)]

    # then the slots are 10 seconds apart whoever asked, and each waits for its own
    slots = [slot for _wait, slot in reservations]
    assert [b - a for a, b in itertools.pairwise(slots)] == [10_000_000] * 3
    assert [round(wait) for wait, _slot in reservations] == [0, 10, 20, 30]


def test_a_sender_keeps_its_own_pace_when_redis_is_unreachable_or_absent(settings, caplog):
    settings.LEME_SURVEY_SEND_RATE = 1000
    pacer = pacing.SharedPacer(1000, url=f"redis://127.0.0.1:{free_port()}/0", key="leme:test:nowhere")

    pacer.wait()
    pacer.wait()

    assert pacer._fallback.next_at > 0
    assert "Redis is unreachable" in caplog.text
    settings.CELERY_BROKER_URL = None
    assert isinstance(dispatch.pacer(), pacing.Pacer)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    assert isinstance(dispatch.pacer(), pacing.SharedPacer)
