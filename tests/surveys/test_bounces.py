"""Late bounces (surveys.bounces): delivery status notifications about survey emails that went out through the
real sender, read from the command, the API, and seen on the campaign page."""

import io
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from portfolio import services as portfolio_services
from surveys import dispatch, messages, planning, reminders
from surveys.bounces import BounceReport, Ignored, apply_bounces, parse_dsn, survey_message
from surveys.models import Delivery, DeliveryStatus, SkipReason
from tests.conftest import ROOT, free_port
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import DeliveryFactory, ResponseFactory, active_campaign
from tests.surveys.test_results import speak_english

pytestmark = pytest.mark.django_db

API = "/api/v1/survey-bounces/"
GONE = "gone@cliente.com.br"
USER_UNKNOWN = "550 5.1.1 <{recipient}>: Recipient address rejected: User unknown in\n    virtual mailbox table"


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.LEME_SURVEY_SEND_RATE = 0


# --- Survey emails, sent for real -------------------------------------------------------------------------


def send_survey(smtp_server) -> dict[str, bytes]:
    """Send a new campaign to every contact through the real sender; the bytes each address received."""
    inbox, _url = smtp_server
    campaign = active_campaign()
    planning.campaign_plan(campaign_id=campaign.pk)
    dispatch.deliveries_send_pending(campaign_id=campaign.pk)
    return {envelope.rcpt_tos[0]: envelope.original_content for envelope in inbox.envelopes}


def survey_to(smtp_server, owner, email: str = GONE) -> tuple[Delivery, bytes]:
    """A contact of a customer of ``owner``, surveyed for real: their delivery and the email as sent."""
    contact = ContactFactory(customer=CustomerFactory(owner=owner), email=email)
    received = send_survey(smtp_server)
    return Delivery.objects.get(contact=contact), received[email]


def headers_of(original: bytes) -> bytes:
    return original.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0] + b"\n"


# --- Delivery status notifications, as mail servers write them --------------------------------------------


def postfix_dsn(
    original: bytes,
    *,
    recipient: str = GONE,
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = USER_UNKNOWN,
) -> bytes:
    """Postfix's bounce: a notice, the delivery report, and only the headers of the original."""
    report = f"""From MAILER-DAEMON  Mon Jan  5 10:00:02 2026
Return-Path: <>
Date: Mon,  5 Jan 2026 10:00:02 -0300 (BRT)
From: MAILER-DAEMON@mx.leme.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: no-reply@leme.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4XbQ2N1kz9z9sW.1767618002/mx.leme.example"
Message-Id: <20260105130002.4XbQ2N1kz9z9sW@mx.leme.example>

This is a MIME-encapsulated message.

--4XbQ2N1kz9z9sW.1767618002/mx.leme.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.leme.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--4XbQ2N1kz9z9sW.1767618002/mx.leme.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.leme.example
X-Postfix-Queue-ID: 4XbQ2N1kz9z9sW
X-Postfix-Sender: rfc822; no-reply@leme.example
Arrival-Date: Mon,  5 Jan 2026 10:00:01 -0300 (BRT)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.cliente.com.br
Diagnostic-Code: smtp; {diagnostic.format(recipient=recipient)}

--4XbQ2N1kz9z9sW.1767618002/mx.leme.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

"""
    ending = "\n--4XbQ2N1kz9z9sW.1767618002/mx.leme.example--\n"
    return (report.encode() + headers_of(original) + ending.encode()).replace(b"\n", b"\r\n")


def gmail_dsn(original: bytes, *, recipient: str = GONE, threading: str = "") -> bytes:
    """Gmail's bounce: the whole original returned as message/rfc822, the DSN threaded on it."""
    report = f"""Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: no-reply@leme.example
Subject: Delivery Status Notification (Failure)
Auto-Submitted: auto-replied
{threading}X-Failed-Recipients: {recipient}
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000a1b2c3"; report-type=delivery-status

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"

Address not found
Your message wasn't delivered to {recipient} because the address couldn't be found.

--000000000000a1b2c3
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; mx.leme.example
Arrival-Date: Mon, 05 Jan 2026 05:00:01 -0800 (PST)

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.0.27, the server for the domain gmail.com.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.
 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser a1si2 - gsmtp
Last-Attempt-Date: Mon, 05 Jan 2026 05:00:02 -0800 (PST)

--000000000000a1b2c3
Content-Type: message/rfc822

"""
    body = original.replace(b"\r\n", b"\n")
    return (report.encode() + body + b"\n--000000000000a1b2c3--\n").replace(b"\n", b"\r\n")


def original_of(delivery: Delivery, *, reminder: bool = False) -> bytes:
    """The headers a survey email carries, for rows made by factories rather than sent."""
    return (
        f"From: Leme <no-reply@leme.example>\r\nTo: {delivery.email}\r\n"
        f"Message-ID: {messages.message_id(delivery.pk, reminder=reminder)}\r\nSubject: One quick question\r\n\r\n"
    ).encode()


def bounced_later(delivery: Delivery, **dsn) -> bytes:
    return postfix_dsn(original_of(delivery), recipient=delivery.email, **dsn)


# --- Reading -----------------------------------------------------------------------------------------------


def test_a_postfix_dsn_names_the_survey_email_that_was_really_sent(org, smtp_server):
    delivery, original = survey_to(smtp_server, org.csm_a)

    [report] = parse_dsn(postfix_dsn(original))

    assert report == BounceReport(
        recipient=GONE,
        action="failed",
        status="5.1.1",
        diagnostic=f"550 5.1.1 <{GONE}>: Recipient address rejected: User unknown in virtual mailbox table",
        message_id=f"<survey-{delivery.pk}@leme.example>",
    )
    assert survey_message(report.message_id).delivery_id == delivery.pk


def test_a_gmail_dsn_returning_the_whole_email_names_it_too(org, smtp_server):
    delivery, original = survey_to(smtp_server, org.csm_a, "ana@gmail.com")

    [report] = parse_dsn(gmail_dsn(original, recipient="ana@gmail.com"))

    assert (report.recipient, report.action, report.status) == ("ana@gmail.com", "failed", "5.1.1")
    assert report.diagnostic.startswith("550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1")
    assert report.message_id == messages.message_id(delivery.pk)


def test_a_returned_email_whose_message_id_a_relay_rewrote_is_found_by_the_dsns_threading(org):
    delivery = DeliveryFactory(contact=ContactFactory(customer=CustomerFactory(owner=org.csm_a)))
    ours = messages.message_id(delivery.pk)
    rewritten = b"From: Leme <no-reply@leme.example>\r\nMessage-ID: <lost-in-transit@relay.example>\r\n\r\n"

    [report] = parse_dsn(
        gmail_dsn(rewritten, recipient=delivery.email, threading=f"In-Reply-To: {ours}\nReferences: {ours}\n")
    )

    assert report.message_id == ours


def test_message_ids_are_read_back_as_the_sender_writes_them():
    assert survey_message(messages.message_id(42)).delivery_id == 42
    assert survey_message(messages.message_id(42)).reminder is False
    assert survey_message(messages.message_id(42, reminder=True)).reminder is True
    assert survey_message("<survey-42@another.example>") is None
    assert survey_message("<20260105130002.4XbQ2N1kz9z9sW@mx.leme.example>") is None


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe\x00garbage\x00\x9c",
        b"From: ana@cliente.com.br\r\nSubject: Re: One quick question\r\n\r\nNot now, thanks.\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n\r\nhi\r\n--x--\r\n",
        b"Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n",
        b"In-Reply-To: <(\r\nContent-Type: multipart/report; boundary=x\r\n\r\n--x\r\n"
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nAction: failed\r\n--x--\r\n",
    ],
    ids=["empty", "binary", "a reply", "no delivery status", "truncated", "no recipient"],
)
def test_anything_but_a_dsn_gives_no_reports(raw):
    assert parse_dsn(raw) == []


# --- Recording ---------------------------------------------------------------------------------------------


def test_a_late_bounce_marks_the_delivery_and_the_contact_who_is_then_never_surveyed(org, smtp_server):
    # given a survey that went out and a DSN about it days later
    delivery, original = survey_to(smtp_server, org.csm_a)
    now = timezone.now() + timedelta(days=2)

    # when it is recorded
    outcome = apply_bounces(parse_dsn(postfix_dsn(original)), now=now)

    # then the delivery bounced with the reason, and the contact is skipped by the next campaign
    assert (outcome.bounced, outcome.ignored) == (1, {})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.BOUNCED
    assert delivery.last_error == (
        f"5.1.1 550 5.1.1 <{GONE}>: Recipient address rejected: User unknown in virtual mailbox table"
    )
    assert (delivery.sent_at, delivery.expires_at) == (None, None)
    delivery.contact.refresh_from_db()
    assert delivery.contact.bounced_at == now
    later = active_campaign(fatigue_days=0)
    planning.campaign_plan(campaign_id=later.pk)
    assert Delivery.objects.get(campaign=later, contact=delivery.contact).skip_reason == SkipReason.BOUNCED


def test_a_bounced_reminder_keeps_the_surveys_own_send_on_record(org, smtp_server):
    inbox, _url = smtp_server
    sent_at = timezone.now() - timedelta(days=5)
    delivery = DeliveryFactory(
        campaign=active_campaign(reminder_after_days=4),
        contact=ContactFactory(customer=CustomerFactory(owner=org.csm_a), email=GONE),
        sent_at=sent_at,
    )
    reminders.reminders_send_due()
    [reminder] = inbox.envelopes

    outcome = apply_bounces(parse_dsn(postfix_dsn(reminder.original_content)))

    assert outcome.bounced == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.sent_at) == (DeliveryStatus.BOUNCED, sent_at)
    delivery.contact.refresh_from_db()
    assert delivery.contact.bounced_at is not None


def test_the_same_dsn_twice_changes_nothing_the_second_time(org, smtp_server):
    delivery, original = survey_to(smtp_server, org.csm_a)
    dsn = gmail_dsn(original)
    first_at = timezone.now()
    apply_bounces(parse_dsn(dsn), now=first_at)
    delivery.refresh_from_db()
    first = (delivery.status, delivery.last_error, delivery.sent_at)

    again = apply_bounces(parse_dsn(dsn), now=first_at + timedelta(hours=1))

    assert (again.bounced, again.ignored) == (0, {Ignored.ALREADY_BOUNCED: 1})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error, delivery.sent_at) == first
    delivery.contact.refresh_from_db()
    assert delivery.contact.bounced_at == first_at


def test_a_delay_is_ignored_while_the_relay_keeps_trying(org, smtp_server):
    delivery, original = survey_to(smtp_server, org.csm_a)
    delayed = postfix_dsn(
        original,
        action="delayed",
        status="4.4.1",
        diagnostic="connect to mx.cliente.com.br[203.0.113.7]:25: Connection timed out",
    )

    outcome = apply_bounces(parse_dsn(delayed))

    assert (outcome.bounced, outcome.ignored) == (0, {Ignored.NOT_PERMANENT: 1})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.SENT, "")
    delivery.contact.refresh_from_db()
    assert delivery.contact.bounced_at is None


def test_a_dsn_for_another_address_opts_nobody_out(org, smtp_server):
    delivery, original = survey_to(smtp_server, org.csm_a, "ana@padaria.com.br")

    outcome = apply_bounces(parse_dsn(postfix_dsn(original, recipient="someone.else@padaria.com.br")))

    assert (outcome.bounced, outcome.ignored) == (0, {Ignored.OTHER_RECIPIENT: 1})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    delivery.contact.refresh_from_db()
    assert delivery.contact.bounced_at is None


def test_the_address_is_matched_whatever_its_case(org):
    delivery = DeliveryFactory(contact=ContactFactory(customer=CustomerFactory(owner=org.csm_a), email=GONE))

    outcome = apply_bounces(parse_dsn(postfix_dsn(original_of(delivery), recipient="Gone@Cliente.COM.BR")))

    assert outcome.bounced == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.BOUNCED


def test_message_ids_of_other_senders_and_unknown_deliveries_are_not_ours(org):
    delivery = DeliveryFactory(contact=ContactFactory(customer=CustomerFactory(owner=org.csm_a)))
    foreign = original_of(delivery).replace(b"@leme.example>", b"@another.example>")
    unknown = original_of(delivery).replace(f"<survey-{delivery.pk}@".encode(), b"<survey-999999999@")

    outcomes = [apply_bounces(parse_dsn(postfix_dsn(raw, recipient=delivery.email))) for raw in (foreign, unknown)]

    assert [o.ignored for o in outcomes] == [{Ignored.NOT_OURS: 1}, {Ignored.NOT_OURS: 1}]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_someone_who_answered_keeps_the_answer_and_only_the_contact_is_marked(org):
    answer = ResponseFactory(delivery__contact=ContactFactory(customer=CustomerFactory(owner=org.csm_a)))
    delivery = answer.delivery
    dsn = bounced_later(delivery)

    first, second = apply_bounces(parse_dsn(dsn)), apply_bounces(parse_dsn(dsn))

    assert (first.bounced, second.ignored) == (1, {Ignored.ALREADY_BOUNCED: 1})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.SENT, "")
    assert delivery.sent_at is not None
    delivery.contact.refresh_from_db()
    assert delivery.contact.bounced_at is not None


def test_a_contact_bounced_before_keeps_the_first_date(org):
    before = timezone.now() - timedelta(days=30)
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    delivery = DeliveryFactory(contact=contact)
    portfolio_services.contact_update(contact=contact, actor=None, bounced_at=before)

    outcome = apply_bounces(parse_dsn(bounced_later(delivery)))

    assert outcome.bounced == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.BOUNCED
    contact.refresh_from_db()
    assert contact.bounced_at == before


def test_a_contact_whose_address_was_corrected_is_not_marked(org):
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a), email="old@cliente.com.br")
    delivery = DeliveryFactory(contact=contact)
    portfolio_services.contact_update(contact=contact, actor=None, email="new@cliente.com.br")

    apply_bounces(parse_dsn(bounced_later(delivery)))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.BOUNCED
    contact.refresh_from_db()
    assert contact.bounced_at is None


def test_a_skipped_delivery_never_left_so_it_cannot_bounce(org):
    delivery = DeliveryFactory(
        contact=ContactFactory(customer=CustomerFactory(owner=org.csm_a)),
        status=DeliveryStatus.SKIPPED,
        skip_reason=SkipReason.FATIGUE,
        sent_at=None,
    )

    outcome = apply_bounces(parse_dsn(bounced_later(delivery)))

    assert outcome.ignored == {Ignored.NOT_SENT: 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.skip_reason) == (DeliveryStatus.SKIPPED, SkipReason.FATIGUE)
    delivery.contact.refresh_from_db()
    assert delivery.contact.bounced_at is None


def test_an_enps_bounce_marks_only_the_delivery(org, smtp_server):
    inbox, _url = smtp_server
    campaign = active_campaign(kind="enps", audience={"owners": [org.csm_b.pk]})
    planning.campaign_plan(campaign_id=campaign.pk)
    dispatch.deliveries_send_pending(campaign_id=campaign.pk)
    [envelope] = inbox.envelopes

    outcome = apply_bounces(parse_dsn(postfix_dsn(envelope.original_content, recipient=org.csm_b.email)))

    assert outcome.bounced == 1
    delivery = Delivery.objects.get(campaign=campaign)
    assert (delivery.employee_id, delivery.contact_id, delivery.status) == (
        org.csm_b.pk,
        None,
        DeliveryStatus.BOUNCED,
    )
    org.csm_b.refresh_from_db()
    assert org.csm_b.is_active


def test_every_recipient_of_a_dsn_counts_on_its_own(org, smtp_server):
    delivery, original = survey_to(smtp_server, org.csm_a)
    dsn = postfix_dsn(original).replace(
        b"Final-Recipient: rfc822; gone@",
        b"Final-Recipient: rfc822; other@cliente.com.br\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"Final-Recipient: rfc822; gone@",
    )

    outcome = apply_bounces(parse_dsn(dsn))

    assert (outcome.bounced, outcome.ignored) == (1, {Ignored.OTHER_RECIPIENT: 1})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.BOUNCED


# --- The command -------------------------------------------------------------------------------------------


def test_the_command_records_each_file_and_says_what_it_did(org, smtp_server, tmp_path):
    gone, original = survey_to(smtp_server, org.csm_a)
    files = {
        "bounce.eml": postfix_dsn(original),
        "delay.eml": postfix_dsn(original, action="delayed", status="4.4.1"),
        "reply.eml": b"From: ana@cliente.com.br\r\nSubject: Re: One quick question\r\n\r\nNo.\r\n",
    }
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    out = io.StringIO()

    call_command("survey_bounce", *(str(tmp_path / name) for name in files), stdout=out)

    assert out.getvalue().splitlines() == [
        f"{tmp_path / 'bounce.eml'}: 1 bounced, 0 ignored",
        f"{tmp_path / 'delay.eml'}: 0 bounced, 1 ignored (not_permanent: 1)",
        f"{tmp_path / 'reply.eml'}: not a delivery status notification",
    ]
    gone.refresh_from_db()
    assert gone.status == DeliveryStatus.BOUNCED


def test_the_command_reads_one_message_from_standard_input(org, smtp_server, monkeypatch):
    gone, original = survey_to(smtp_server, org.csm_a)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gmail_dsn(original))))
    out = io.StringIO()

    call_command("survey_bounce", stdout=out)

    assert out.getvalue() == "stdin: 1 bounced, 0 ignored\n"
    gone.contact.refresh_from_db()
    assert gone.contact.bounced_at is not None


def test_the_command_asks_the_mail_server_to_retry_while_the_database_is_down():
    dsn = postfix_dsn(b"Message-ID: <survey-1@leme.example>\r\n\r\n")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/leme",
    }

    done = subprocess.run(
        [sys.executable, "manage.py", "survey_bounce"], input=dsn, cwd=ROOT, env=env, capture_output=True, timeout=60
    )

    assert done.returncode == 75, done.stderr
    assert b"try again later" in done.stderr


# --- The API -----------------------------------------------------------------------------------------------


def test_an_admin_posts_a_dsn_and_gets_the_outcome(org, smtp_server, api_for):
    gone, original = survey_to(smtp_server, org.csm_a)

    response = api_for(org.admin).post(API, postfix_dsn(original), content_type="message/rfc822")

    assert response.status_code == 200
    assert response.json() == {"bounced": 1, "ignored": {}}
    gone.refresh_from_db()
    assert gone.status == DeliveryStatus.BOUNCED


def test_only_admins_may_post_bounces(org, api_for):
    delivery = DeliveryFactory(contact=ContactFactory(customer=CustomerFactory(owner=org.csm_a)))
    dsn = bounced_later(delivery)

    answers = [
        api_for(user).post(API, dsn, content_type="message/rfc822").status_code
        for user in (org.csm_a, org.leader_a, org.viewer_all)
    ]

    assert answers == [403, 403, 403]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_anonymous_bounces_are_refused(org, client):
    delivery = DeliveryFactory(contact=ContactFactory(customer=CustomerFactory(owner=org.csm_a)))

    response = client.post(API, bounced_later(delivery), content_type="message/rfc822")

    assert response.status_code == 401
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


@pytest.mark.parametrize(
    "body", [b"", b"From: ana@cliente.com.br\r\nSubject: Re: survey\r\n\r\nNo.\r\n"], ids=["empty", "a reply"]
)
def test_a_body_that_is_not_a_dsn_is_a_400(org, api_for, body):
    response = api_for(org.admin).post(API, body, content_type="message/rfc822")

    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_a_dsn_sent_as_anything_but_a_message_is_a_415(org, api_for):
    response = api_for(org.admin).post(API, {"dsn": "x"}, format="json")

    assert response.status_code == 415


# --- The campaign page -------------------------------------------------------------------------------------


def test_the_campaign_page_counts_a_late_bounce_with_the_others(org, smtp_server, client_for):
    # given a campaign sent to two contacts, one of whose addresses bounces days later
    customer = CustomerFactory(owner=org.csm_a)
    gone = ContactFactory(customer=customer, email=GONE)
    ContactFactory(customer=customer, email="ana@padaria.com.br")
    received = send_survey(smtp_server)
    campaign = Delivery.objects.get(contact=gone).campaign

    # when the DSN is recorded
    apply_bounces(parse_dsn(postfix_dsn(received[GONE])))

    # then the campaign page counts one sent and one bounced
    speak_english(org.leader_a)
    page = client_for(org.leader_a).get(f"/surveys/{campaign.pk}/")
    assert page.status_code == 200
    counts = page.context["counts"]
    assert (counts.planned, counts.sent, counts.bounced) == (2, 1, 1)
    assert "Bounced: 1" in page.text


# --- Hostile messages --------------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """A message whose parts nest ``depth`` levels deep."""
    head = "From: mailer-daemon@mx.example\r\nTo: no-reply@leme.example\r\nMIME-Version: 1.0\r\n"
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    closing = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(depth)))
    return (head + opening + "Content-Type: text/plain\r\n\r\nUndeliverable.\r\n" + closing).encode()


def test_a_message_nested_thousands_deep_is_not_a_dsn(org, api_for):
    hostile = nested(3000)

    assert parse_dsn(hostile) == []
    response = api_for(org.admin).post(API, hostile, content_type="message/rfc822")
    assert (response.status_code, set(response.json())) == (400, {"detail"})


def test_the_command_ignores_a_message_nested_thousands_deep(tmp_path):
    path = tmp_path / "deep.eml"
    path.write_bytes(nested(3000))
    out = io.StringIO()

    call_command("survey_bounce", str(path), stdout=out)

    assert out.getvalue() == f"{path}: not a delivery status notification\n"
