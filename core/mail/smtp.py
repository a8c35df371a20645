"""The paced SMTP loop: one run of a bulk send, and how the server's answer to one email is read.

A run opens an SMTP connection per batch, waits for its pace before each email, stops handing out emails
when its time budget is spent (well inside the task's soft time limit, so the limit never interrupts an
email between the server's acceptance and the caller's commit), and reconnects when the server drops it —
giving the run back to the task's retry when the server keeps dropping it. What a "sent", "bounced" or
"deferred" email means for the caller's rows is the caller's (see ``surveys.dispatch``)."""

import contextlib
import re
import smtplib
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address

from core.mail.frames import plain_address
from core.mail.pacing import Pacer, SharedPacer

# Errors that say "the SMTP server could not be reached or dropped us", as opposed to an answer about
# one message. The tasks retry these with backoff.
TRANSIENT_SMTP_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError)

# Consecutive dropped connections inside one run before giving the whole run back to Celery's retry.
MAX_RECONNECTS = 3


def run_budget_seconds() -> float:
    """How long one task run sends before handing over to a fresh task, well inside the soft limit so
    the limit never interrupts an email between the server's acceptance and the caller's commit."""
    return max(10.0, getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", 300) / 2)


def error_text(error: Exception) -> str:
    """The server's answer (or the error) in at most 300 characters, to keep on the row."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"[:300]
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        return f"{error.smtp_code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"[:300]
    return f"{type(error).__name__}: {error}"[:300]


def smtp_send(send: Callable[[], object]) -> tuple[str, Exception | None]:
    """Hand one message to the server and classify the answer: "sent", "bounced" (recipient refused for
    good), "failed" (message refused for good), "deferred" (try later) or "dropped" (the connection is
    gone: try later on a new one). A refused sender is the configuration's fault, not this email's: it
    is raised."""
    try:
        send()
    except smtplib.SMTPRecipientsRefused as error:
        code = next(iter(error.recipients.values()))[0]
        return ("bounced" if code >= 500 else "deferred"), error
    except smtplib.SMTPSenderRefused as error:
        if error.smtp_code >= 500:
            raise
        return "deferred", error
    except smtplib.SMTPResponseException as error:
        return ("failed" if error.smtp_code >= 500 else "deferred"), error
    except (*TRANSIENT_SMTP_ERRORS, OSError) as error:
        return "dropped", error
    return "sent", None


_LINE_STARTING_WITH_A_DOT = re.compile(rb"(?m)^\.")


def _reset(client: smtplib.SMTP, code: int) -> None:
    """After a refusal, as smtplib's ``sendmail`` does: a 421 closes the connection, anything else resets it."""
    if code == 421:
        client.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        client.rset()


def prebuilt_exchange(client: smtplib.SMTP, mail_from: str, recipient: str, payload: bytes) -> Iterator[None]:
    """``client.sendmail(sender, [recipient], payload)`` for one recipient and a message already in CRLF lines,
    with the same commands and the same errors, in steps: each step reads the server's answer to the last
    command and writes the next, then pauses (``yield``) until the next step, so that a sender with several
    connections writes on each before it waits for the first answer (``core.mail.lanes``). Without what
    smtplib does again for every email: parsing both addresses (``mail_from`` comes quoted, ``<address>``, once
    per connection; a plain recipient needs no parsing) and scanning the whole message for lines that start
    with a dot when it has none."""
    client.ehlo_or_helo_if_needed()
    size = f" size={len(payload)}" if client.does_esmtp and client.has_extn("size") else ""
    client.putcmd("mail", f"FROM:{mail_from}{size}")
    yield
    code, reply = client.getreply()
    if code != 250:
        _reset(client, code)
        raise smtplib.SMTPSenderRefused(code, reply, mail_from)
    client.putcmd("rcpt", f"TO:<{recipient}>" if plain_address(recipient) else f"TO:{smtplib.quoteaddr(recipient)}")
    yield
    code, reply = client.getreply()
    if code not in (250, 251):
        _reset(client, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    client.putcmd("data")
    yield
    code, reply = client.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    if payload.startswith(b".") or b"\n." in payload:
        payload = _LINE_STARTING_WITH_A_DOT.sub(b"..", payload)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    client.send(payload + b".\r\n")
    yield
    code, reply = client.getreply()
    if code != 250:
        _reset(client, code)
        raise smtplib.SMTPDataError(code, reply)


def send_prebuilt(client: smtplib.SMTP, mail_from: str, recipient: str, payload: bytes) -> None:
    """``prebuilt_exchange`` in one go, on one connection."""
    for _step in prebuilt_exchange(client, mail_from, recipient, payload):
        pass


def connection_lost(smtp) -> bool:
    client = getattr(smtp, "connection", None)
    return client is not None and getattr(client, "sock", True) is None


class SmtpRun:
    """One run of a send: an SMTP connection per batch (``open`` / ``close``), the pace, a time budget, and
    reconnects. ``hand_over`` sends one email; ``settle`` is told what became of it."""

    def __init__(self, *, pacer: Pacer | SharedPacer, budget: float) -> None:
        self.deadline = time.monotonic() + budget
        self.pacer = pacer
        self.smtp = None
        self.raw = False
        self.envelope_from = ""
        self.mail_from = ""
        self.drops = 0

    @property
    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def open(self) -> None:
        self.smtp = get_connection(fail_silently=False)
        self.smtp.open()
        # Django's own SMTP backend gets the prebuilt bytes; any other backend (locmem, files, one that
        # signs or relays through an API) gets the Django message and does what it does with it.
        self.raw = type(self.smtp) is SmtpBackend
        self.envelope_from = sanitize_address(settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET)
        self.mail_from = smtplib.quoteaddr(self.envelope_from)

    def close(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def hand_over(
        self, raw: Callable[[], tuple[str, bytes] | None], message: Callable[[], EmailMessage]
    ) -> tuple[str, Exception | None]:
        """Send one email: ``raw()`` gives (envelope recipient, bytes) for Django's SMTP backend, or None
        when only ``message()``, a Django message, can do it. Returns ``smtp_send``'s outcome and error."""
        data = raw() if self.raw else None
        if data is not None:
            to, payload = data
            return smtp_send(lambda: send_prebuilt(self.smtp.connection, self.mail_from, to, payload))
        built = message()
        return smtp_send(lambda: self.smtp.send_messages([built]))

    def settle(self, smtp_outcome: str, error: Exception | None) -> None:
        """After each email: a sent one resets the count of drops; a dropped connection is replaced."""
        if smtp_outcome == "sent":
            self.drops = 0
        if smtp_outcome == "dropped" or connection_lost(self.smtp):
            self._reconnect(error)

    def _reconnect(self, error: Exception | None) -> None:
        """A server that drops us once (say, a per-connection message limit) gets a new connection; one
        that keeps dropping us gets the run back to Celery's retry with backoff."""
        self.drops += 1
        self.close()
        if self.drops > MAX_RECONNECTS:
            raise smtplib.SMTPServerDisconnected(f"SMTP connection lost {self.drops} times in a row: {error}")
        self.open()
