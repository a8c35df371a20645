"""Late bounces: the delivery status notifications (DSNs) that come back after the relay took a survey email.

A recipient refused during the SMTP exchange is handled by the send itself (``surveys.dispatch``). Most
bad addresses are only found later, though: the relay accepts the email, tries the recipient's server,
and mails a DSN (RFC 3464, ``multipart/report; report-type=delivery-status``) back to the envelope sender.
This module reads those DSNs and records them the way the send records a refusal.

Reading
    ``parse_dsn`` takes one raw message and returns a ``BounceReport`` per recipient block of its
    ``message/delivery-status`` part: the Final-Recipient, the Action, the Status and the Diagnostic-Code,
    with the Message-ID of the email it is about, read from the returned original (``message/rfc822``, or
    only its headers as ``text/rfc822-headers``) or, when the DSN returned none of ours, from the DSN's own
    In-Reply-To and References. Anything else (not a DSN, unreadable bytes) gives no reports.

Recording
    ``apply_bounces`` acts only on a permanent failure (Action ``failed``, Status 5.x.x); a delay
    (``delayed``, 4.x.x) means the relay is still trying. The Message-ID names the delivery (every survey
    email carries ``messages.message_id``: ``<survey-{pk}@domain>``, reminders
    ``<survey-{pk}-reminder@domain>``), and the DSN's recipient must be the delivery's address, so a forged
    or mismatched DSN opts nobody out. The delivery becomes ``bounced`` with the status and diagnostic
    as its error, unless the person has answered it (then it stays sent), and its contact gets
    ``bounced_at``, so no campaign emails them again until someone corrects the address. eNPS deliveries
    (to employees) mark only the delivery. A DSN read twice changes nothing the second time; each DSN is
    one transaction. Late bounces land in the same ``bounced`` status as refusals, so the campaign page
    counts them with the others.

Wiring the bounce address
    DSNs go to the envelope sender (the Return-Path), which is ``DEFAULT_FROM_EMAIL``'s address. Make that
    mailbox an alias of the mail server piped into the command, which reads one message from standard
    input; in Postfix's ``/etc/aliases``::

        no-reply: "|/srv/leme/.venv/bin/python /srv/leme/manage.py survey_bounce"

    The mail server runs the pipe with almost no environment, so the command needs Leme's variables
    (``DJANGO_SETTINGS_MODULE``, ``DATABASE_URL``) set for it, e.g. by a small script that exports them.
    It exits 0 whatever the message was, so the mail server never bounces a bounce, and 75
    (EX_TEMPFAIL) while the database cannot be reached, so the mail server tries again later. Saved
    messages can be given as files: ``manage.py survey_bounce a.eml b.eml``. A relay or email service
    that receives the bounces itself can instead POST each DSN, as ``message/rfc822``, to
    ``/api/v1/survey-bounces/`` with an admin's token.
"""

import email
import email.errors
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from django.db import transaction
from django.utils import timezone

from core.mail import bounces as other_bounces
from surveys.dispatch import contact_bounce, delivery_bounce
from surveys.messages import message_id
from surveys.models import Delivery, DeliveryStatus, Response

logger = logging.getLogger(__name__)

# The format of ``messages.message_id``; a match counts as ours only if message_id() gives it back (the
# domain included), see ``survey_message``.
SURVEY_MESSAGE_ID = re.compile(r"<survey-(?P<pk>[0-9]{1,18})(?P<reminder>-reminder)?@[^<>@\s]+>")
# RFC 3464 typed fields: "rfc822; ana@example.com", "smtp; 550 5.1.1 User unknown".
_FIELD_TYPE = re.compile(r"^\s*[A-Za-z0-9.+-]+\s*;\s*")
_STATUS = re.compile(r"\b[245]\.[0-9]{1,3}\.[0-9]{1,3}\b")
# The stdlib's header parsers have raised these on hostile input instead of recording a defect; a DSN
# that trips one is unreadable, not an error of ours. RecursionError is the last guard behind _MAX_PARTS.
_MALFORMED = (email.errors.MessageError, ValueError, LookupError, RecursionError)
# A DSN holds a few parts (a text, the report, the returned original with its own two or three, perhaps all
# of it forwarded as an attachment). The stdlib parses nested parts recursively: a message nested thousands
# deep raised RecursionError (a 500, and exit 1 so the mail server bounced the bounce). Anything with more
# Content-Type headers than this is not a DSN and is not parsed at all.
_MAX_PARTS = 100
# A delivery the relay may have taken: sent, or pending after a send whose commit was lost (see
# "Exactly once" in surveys.dispatch). Skipped and failed ones never left.
_MAY_HAVE_LEFT = (DeliveryStatus.SENT, DeliveryStatus.PENDING)


# --- Reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyMessage:
    """What a survey email's Message-ID says: its delivery, and whether it was the reminder."""

    delivery_id: int
    reminder: bool


def survey_message(value: str) -> SurveyMessage | None:
    """The survey email a Message-ID names, or None when it is not one of ours."""
    match = SURVEY_MESSAGE_ID.search(value or "")
    if match is None:
        return None
    found = SurveyMessage(delivery_id=int(match["pk"]), reminder=bool(match["reminder"]))
    if message_id(found.delivery_id, reminder=found.reminder).lower() != match[0].lower():
        return None
    return found


@dataclass(frozen=True)
class BounceReport:
    """One recipient block of a DSN, with the Message-ID of the email it is about ("" if not returned)."""

    recipient: str
    action: str
    status: str
    diagnostic: str
    message_id: str

    @property
    def permanent(self) -> bool:
        """Failed for good. A delay (4.x.x) only says the relay is still trying."""
        return self.action == "failed" and self.status.startswith("5.")

    @property
    def error(self) -> str:
        return f"{self.status} {self.diagnostic}".strip()[:300]


def _text(value: object) -> str:
    """A header's value on one line (folded Diagnostic-Codes come with their line breaks)."""
    return " ".join(str(value or "").split())


def _untyped(value: object) -> str:
    return _FIELD_TYPE.sub("", _text(value), count=1)


def _report_part(message: Message) -> Message | None:
    """The ``multipart/report`` holding a delivery-status part; a DSN forwarded as an attachment is found
    inside the forwarding message."""
    for part in message.walk():
        if part.get_content_type() == "multipart/report" and _child(part, "message/delivery-status") is not None:
            return part
    return None


def _child(part: Message, *content_types: str) -> Message | None:
    payload = part.get_payload()
    if not isinstance(payload, list):
        return None
    return next((child for child in payload if child.get_content_type() in content_types), None)


def _returned_message_id(report: Message) -> str:
    """The Message-ID of the returned original: the whole message, or only its headers."""
    original = _child(report, "message/rfc822", "text/rfc822-headers")
    if original is None:
        return ""
    if original.get_content_type() == "message/rfc822":
        payload = original.get_payload()
        headers = payload[0] if isinstance(payload, list) and payload else None
    else:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(original.get_payload(decode=True) or b"")
    return _text(headers.get("Message-ID")) if headers is not None else ""


def _message_id_about(message: Message, report: Message) -> str:
    """Ours from the returned original, else ours from the DSN's In-Reply-To or References (some mail
    systems return no original but thread the DSN), else whatever the original carried."""
    returned = _returned_message_id(report)
    if survey_message(returned):
        return returned
    threading = f"{_text(message.get('In-Reply-To'))} {_text(message.get('References'))}"
    ours = next((m[0] for m in SURVEY_MESSAGE_ID.finditer(threading) if survey_message(m[0])), None)
    return ours or returned


def _recipient_report(block: Message, about: str) -> BounceReport | None:
    recipient = _untyped(block.get("Final-Recipient")).strip("<>")
    if not recipient:
        return None
    status = _STATUS.search(_text(block.get("Status")))
    return BounceReport(
        recipient=recipient,
        action=_text(block.get("Action")).lower(),
        status=status[0] if status else "",
        diagnostic=_untyped(block.get("Diagnostic-Code")),
        message_id=about,
    )


def parse_dsn(raw: bytes) -> list[BounceReport]:
    """The per-recipient reports of one DSN (RFC 3464); an empty list for anything that is not one."""
    if raw.lower().count(b"content-type:") > _MAX_PARTS:
        logger.info("bounce message with too many parts", extra={"size": len(raw)})
        return []
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
        report = _report_part(message)
        if report is None:
            return []
        about = _message_id_about(message, report)
        # The first block of a delivery-status part is about the message; the others, one recipient each.
        blocks = _child(report, "message/delivery-status").get_payload()[1:]
        return [r for block in blocks if (r := _recipient_report(block, about)) is not None]
    except _MALFORMED:
        logger.info("unreadable bounce message", extra={"size": len(raw)})
        return []


# --- Recording ---------------------------------------------------------------------------------------


# What ``_apply`` answers for a report that marked a delivery or its contact bounced.
BOUNCED = "bounced"


class Ignored:
    """Why a report changed nothing."""

    NOT_PERMANENT = "not_permanent"  # delayed, delivered, relayed, or not a 5.x.x failure
    NOT_OURS = "not_ours"  # no survey Message-ID, or no such delivery
    OTHER_RECIPIENT = "other_recipient"  # the DSN's recipient is not the delivery's address
    NOT_SENT = "not_sent"  # the delivery was skipped or failed: it never left
    ALREADY_BOUNCED = "already_bounced"  # recorded before: nothing left to change


@dataclass
class BounceOutcome:
    """What one DSN did: reports that marked a delivery or its contact bounced, and the others by reason."""

    bounced: int = 0
    ignored: dict[str, int] = field(default_factory=dict)

    def count(self, result: str) -> None:
        if result == BOUNCED:
            self.bounced += 1
        else:
            self.ignored[result] = self.ignored.get(result, 0) + 1


def _apply(report: BounceReport, now: datetime) -> str:
    """Record one report: ``BOUNCED``, or the reason it changed nothing (see ``Ignored``)."""
    if not report.permanent:
        return Ignored.NOT_PERMANENT
    about = survey_message(report.message_id)
    if about is None and (other := other_bounces.handler_for(report.message_id)) is not None:
        return other(report, now)  # another app's email (a playbook's): see core.mail.bounces
    delivery = Delivery.objects.select_for_update().filter(pk=about.delivery_id).first() if about else None
    if delivery is None:
        return Ignored.NOT_OURS
    if delivery.email.lower() != report.recipient.lower():
        return Ignored.OTHER_RECIPIENT
    if delivery.status == DeliveryStatus.BOUNCED:
        return Ignored.ALREADY_BOUNCED
    if delivery.status not in _MAY_HAVE_LEFT:
        return Ignored.NOT_SENT
    # Someone who answered got the survey: their answer stands and the delivery stays sent.
    answered = Response.objects.filter(delivery_id=delivery.pk).exists()
    if not answered:
        delivery_bounce(delivery, error=report.error, reminder=about.reminder)
    if not contact_bounce(delivery, now) and answered:
        return Ignored.ALREADY_BOUNCED
    logger.info(
        "survey email bounced late",
        extra={"delivery_id": delivery.pk, "reminder": about.reminder, "answered": answered, "dsn": report.status},
    )
    return BOUNCED


@transaction.atomic
def apply_bounces(reports: list[BounceReport], *, now: datetime | None = None) -> BounceOutcome:
    """Record the reports of one DSN, in one transaction. Rows are locked, so the same DSN handled twice
    at once is recorded once."""
    now = now or timezone.now()
    outcome = BounceOutcome()
    for report in reports:
        result = _apply(report, now)
        if result != BOUNCED:
            logger.info("bounce report ignored", extra={"reason": result, "dsn": report.status})
        outcome.count(result)
    return outcome
