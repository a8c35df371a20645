"""Sending a playbook's tech-touch emails, through the survey emails' sending path.

Queuing
    An email step (``playbooks.engine``) writes one ``StepEmail`` per contact in the step's role (not archived,
    with an address), in the step's own transaction: unique per run, step and contact, so a step run twice
    writes no second email. Each is due at the next opening of the send window (``window_opens``). The beat's
    ``playbooks.tasks.emails_send`` (every five minutes, and after an advance that ran steps) sends what is
    due.

Sending (``emails_send_pending``)
    The survey path's parts (``core.mail``): an SMTP connection per batch, the shared pace in Redis (the same
    key as the surveys': the email provider limits the account, ``surveys.dispatch.pacer``), a time budget
    inside the task's soft limit, reconnects, and the deterministic Message-ID ``<playbook-{pk}@domain>``. One
    sender at a time (a PostgreSQL advisory lock). Each email is claimed, sent and marked sent in one short
    transaction that commits right after the server's "250"; a worker killed at any point leaves each email
    sent or pending, and the next run sends the pending ones — the one-commit window in which a dead worker
    sends an email twice is the surveys' (see "Exactly once" in ``surveys.dispatch``), and the same
    Message-ID makes the second copy the same email. A recipient refused for good (5xx) marks the email
    bounced and the contact's ``bounced_at`` (no survey or playbook email goes to them again until someone
    corrects the address), and so does a DSN that comes back later (read by ``surveys.bounces``, handed over
    to ``late_bounce`` through ``core.mail.bounces``); a temporary refusal waits and tries again, up to
    ``LEME_SURVEY_MAX_ATTEMPTS``.

What is checked just before each email
    * the run has not exited early (a goal reached, a churn, a person ending it: the email is cancelled, not
      sent late; a run that completed after its last step still sends it); a paused run's emails wait, and are
      looked at again every hour;
    * the contact has not unsubscribed from playbook emails (``EmailOptOut``, their own category: a survey
      opt-out does not stop them, and theirs does not stop surveys) and their address has not bounced;
    * **the weekly cap**: a contact gets at most ``LEME_PLAYBOOK_EMAIL_CAP`` playbook emails in 7 days, all
      playbooks together. An email over the cap is **held back for good** (status "held back by the weekly
      cap", shown on the run), not retried: a tech-touch email belongs to its moment in the play, and sent a
      week late it would arrive after the steps that follow it and press on the cap again. The one sender
      at a time makes the count exact;
    * **the send window** (``LEME_PLAYBOOK_EMAIL_WINDOW``, the workspace's days and hours in ``TIME_ZONE``):
      outside it nothing is sent; emails wait for the next opening.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.locks import exclusive
from core.mail.smtp import SmtpRun, error_text, run_budget_seconds
from playbooks import emails
from playbooks.models import EmailOptOut, EmailStatus, Run, RunStatus, StepEmail
from portfolio.models import Contact
from surveys.dispatch import contact_bounce, pacer

logger = logging.getLogger(__name__)

SEND_LOCK = 0x9B0E  # pg_try_advisory_lock(class, 0): one playbook email sender at a time
CAP_DAYS = 7
RETRY_BASE_SECONDS = 120
RETRY_MAX_SECONDS = 30 * 60
BATCH_SIZE = 200

# --- The send window ----------------------------------------------------------------------------------------

WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)
_WINDOW = re.compile(r"^\s*([1-7])-([1-7])\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class SendWindow:
    """ISO weekdays ``first_day``..``last_day`` (1 is Monday), from ``start`` to ``end`` minutes past midnight,
    in the workspace's time zone."""

    first_day: int
    last_day: int
    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> "SendWindow":
        """``"1-5 09:00-18:00"``: Monday to Friday, nine to six."""
        match = _WINDOW.match(text or "")
        if match is None:
            raise ValueError(f"LEME_PLAYBOOK_EMAIL_WINDOW must look like '1-5 09:00-18:00', not {text!r}")
        d1, d2, h1, m1, h2, m2 = (int(g) for g in match.groups())
        window = cls(d1, d2, h1 * 60 + m1, h2 * 60 + m2)
        if window.start >= window.end or d1 > d2:
            raise ValueError(f"LEME_PLAYBOOK_EMAIL_WINDOW is empty: {text!r}")
        return window

    def describe(self) -> str:
        """ "Monday to Friday, 09:00–18:00", in the reader's language."""
        names = dict(zip(range(1, 8), WEEKDAYS, strict=True))
        days = (
            str(names[self.first_day])
            if self.first_day == self.last_day
            else _("%(first)s to %(last)s") % {"first": names[self.first_day], "last": names[self.last_day]}
        )
        start, end = divmod(self.start, 60), divmod(self.end, 60)
        return f"{days}, {start[0]:02d}:{start[1]:02d}–{end[0]:02d}:{end[1]:02d}"

    def opens(self, at: datetime) -> datetime:
        """``at`` itself when the window is open then, else its next opening."""
        local = at.astimezone(ZoneInfo(settings.TIME_ZONE))
        for day in range(8):
            date = (local + timedelta(days=day)).date()
            if not self.first_day <= date.isoweekday() <= self.last_day:
                continue
            opening = datetime(date.year, date.month, date.day, tzinfo=local.tzinfo) + timedelta(minutes=self.start)
            closing = opening + timedelta(minutes=self.end - self.start)
            if local < closing:
                return at if local >= opening else opening
        raise AssertionError("a window open at least one day a week opens within eight days")


def send_window() -> SendWindow:
    return SendWindow.parse(settings.LEME_PLAYBOOK_EMAIL_WINDOW)


def window_opens(at: datetime) -> datetime:
    return send_window().opens(at)


# --- Queuing (inside the engine's step transaction) ------------------------------------------------------------


def emails_queue(*, run: Run, index: int, contact_role: str, now: datetime) -> int:
    """Write the emails of a run's email step, one per contact in ``contact_role`` with an address; returns
    how many. A second call for the same step writes nothing (the unique constraint)."""
    contacts = list(
        Contact.objects.filter(customer_id=run.customer_id, role=contact_role, archived_at__isnull=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", "email", "language")
    )
    due = window_opens(now)
    rows = [
        StepEmail(
            run=run, index=index, contact_id=pk, email=email, language=language, created_at=now, next_attempt_at=due
        )
        for pk, email, language in contacts
    ]
    StepEmail.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- Sending ---------------------------------------------------------------------------------------------------


@dataclass
class SendResult:
    sent: int = 0
    bounced: int = 0
    failed: int = 0
    deferred: int = 0
    held: int = 0
    not_sent: int = 0
    busy: bool = False
    more_due: bool = False
    next_at: datetime | None = None


def _due(now: datetime):
    return StepEmail.objects.filter(status=EmailStatus.PENDING, next_attempt_at__lte=now)


def _batch(now: datetime, after: int) -> list[StepEmail]:
    return list(
        _due(now)
        .filter(pk__gt=after)
        .select_related("run__version", "run__customer__owner", "contact__playbook_opt_out")
        .order_by("pk")[:BATCH_SIZE]
    )


PAUSED_RECHECK = timedelta(hours=1)


def _sent_lately(batch: list[StepEmail], now: datetime) -> dict[int, int]:
    """How many playbook emails each contact of the batch was sent in the last 7 days, in one query; the run
    adds its own sends as it goes (it is the only sender)."""
    return dict(
        StepEmail.objects.filter(
            contact_id__in={row.contact_id for row in batch},
            status=EmailStatus.SENT,
            sent_at__gt=now - timedelta(days=CAP_DAYS),
        )
        .values("contact_id")
        .annotate(n=Count("pk"))
        .values_list("contact_id", "n")
    )


def _why_not(row: StepEmail, sent_lately: dict[int, int]) -> str | None:
    """The status an email gets instead of being sent (``EmailStatus.PENDING``: not now), or None: send it."""
    if row.run.status == RunStatus.EXITED:
        return EmailStatus.CANCELLED
    if row.run.status == RunStatus.PAUSED:
        return EmailStatus.PENDING
    contact = row.contact
    if hasattr(contact, "playbook_opt_out"):
        return EmailStatus.OPTED_OUT
    if contact.bounced_at is not None or contact.archived_at is not None:
        return EmailStatus.SUPPRESSED
    if sent_lately.get(row.contact_id, 0) >= settings.LEME_PLAYBOOK_EMAIL_CAP:
        return EmailStatus.HELD
    return None


def message_for(row: StepEmail):
    """The email of one ``StepEmail`` (its step, its contact's language)."""
    step = row.run.version.steps[row.index]
    recipient = emails.Recipient.of(email=row.email, contact_name=row.contact.name, customer=row.run.customer)
    return emails.build(step=step, language=row.language, recipient=recipient, email_id=row.pk)


def _claim(row: StepEmail, now: datetime) -> bool:
    """Lock a pending email and mark it sent, inside the caller's transaction (undone if it is refused)."""
    locked = (
        StepEmail.objects.select_for_update(skip_locked=True).filter(pk=row.pk, status=EmailStatus.PENDING).exists()
    )
    if not locked:
        return False
    StepEmail.objects.filter(pk=row.pk).update(status=EmailStatus.SENT, sent_at=now, attempts=row.attempts + 1)
    return True


def _refused(row: StepEmail, outcome: str, error: Exception | None, now: datetime) -> str:
    text = error_text(error) if error else ""
    attempts = row.attempts + 1
    if outcome == "bounced":
        StepEmail.objects.filter(pk=row.pk).update(
            status=EmailStatus.BOUNCED, sent_at=None, attempts=attempts, last_error=text
        )
        contact_bounce(row, now)
        return "bounced"
    if outcome == "failed" or attempts >= settings.LEME_SURVEY_MAX_ATTEMPTS:
        StepEmail.objects.filter(pk=row.pk).update(
            status=EmailStatus.FAILED, sent_at=None, attempts=attempts, last_error=text
        )
        return "failed"
    wait = min(RETRY_BASE_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS)
    StepEmail.objects.filter(pk=row.pk).update(
        status=EmailStatus.PENDING,
        sent_at=None,
        attempts=attempts,
        last_error=text,
        next_attempt_at=window_opens(now + timedelta(seconds=wait)),
    )
    return "deferred"


def _send_one(smtp: SmtpRun, row: StepEmail, clock) -> str:
    smtp.pacer.wait()
    with transaction.atomic():
        now = clock()
        if not _claim(row, now):
            return "taken"
        outcome, error = smtp.hand_over(lambda: None, lambda: message_for(row))
        result = outcome if outcome == "sent" else _refused(row, outcome, error, now)
    smtp.settle(outcome, error)
    return result


def emails_send_pending(*, now: datetime | None = None, budget_seconds: float | None = None) -> SendResult:
    """Send the playbook emails that are due, batch by batch, inside the send window, until none are left or
    the run's time is up. ``now`` fixes the clock (tests)."""
    clock = (lambda: now) if now else timezone.now
    result = SendResult()
    with exclusive(SEND_LOCK, 0) as acquired:
        if not acquired:
            result.busy = True
            return result
        opening = window_opens(clock())
        if opening > clock():
            result.next_at = opening
            return result
        smtp = SmtpRun(pacer=pacer(), budget=budget_seconds or run_budget_seconds())
        cursor = 0
        while not smtp.out_of_time:
            batch = _batch(clock(), cursor)
            if not batch:
                break
            cursor = batch[-1].pk
            sent_lately = _sent_lately(batch, clock())
            smtp.open()
            try:
                for row in batch:
                    if smtp.out_of_time:
                        break
                    reason = _why_not(row, sent_lately)
                    if reason == EmailStatus.PENDING:  # its run is paused: looked at again later
                        StepEmail.objects.filter(pk=row.pk).update(
                            next_attempt_at=window_opens(clock() + PAUSED_RECHECK)
                        )
                        continue
                    if reason is not None:
                        StepEmail.objects.filter(pk=row.pk, status=EmailStatus.PENDING).update(status=reason)
                        if reason == EmailStatus.HELD:
                            result.held += 1
                        else:
                            result.not_sent += 1
                        continue
                    outcome = _send_one(smtp, row, clock)
                    if outcome == "sent":
                        sent_lately[row.contact_id] = sent_lately.get(row.contact_id, 0) + 1
                    if outcome in ("sent", "bounced", "failed", "deferred"):
                        setattr(result, outcome, getattr(result, outcome) + 1)
            finally:
                smtp.close()
        result.more_due = _due(clock()).exists()
        if not result.more_due:
            later = StepEmail.objects.filter(status=EmailStatus.PENDING).order_by("next_attempt_at").first()
            result.next_at = later.next_attempt_at if later else None
    logger.info("playbook email run", extra={"sent": result.sent, "held": result.held, "bounced": result.bounced})
    return result


# --- Late bounces ---------------------------------------------------------------------------------------------

_MESSAGE_ID = re.compile(r"<playbook-(?P<pk>[0-9]{1,18})@[^<>@\s]+>")


def late_bounce(report, now: datetime) -> str:
    """A DSN about a playbook email (handed over by ``surveys.bounces``, see ``core.mail.bounces``): a
    permanent failure for the email's own address marks it bounced and its contact's ``bounced_at``. Answers
    as ``surveys.bounces`` does: ``"bounced"`` or why nothing changed."""
    if not report.permanent:
        return "not_permanent"
    match = _MESSAGE_ID.search(report.message_id or "")
    if match is None or emails.message_id(int(match["pk"])).lower() != match[0].lower():
        return "not_ours"
    row = StepEmail.objects.select_for_update().filter(pk=int(match["pk"])).first()
    if row is None:
        return "not_ours"
    if row.email.lower() != report.recipient.lower():
        return "other_recipient"
    if row.status == EmailStatus.BOUNCED:
        return "already_bounced"
    if row.status not in (EmailStatus.SENT, EmailStatus.PENDING):
        return "not_sent"
    StepEmail.objects.filter(pk=row.pk).update(status=EmailStatus.BOUNCED, last_error=report.error[:300])
    contact_bounce(row, now)
    logger.info("playbook email bounced late", extra={"email_id": row.pk, "dsn": report.status})
    return "bounced"


# --- Opting out ------------------------------------------------------------------------------------------------


@transaction.atomic
def email_opt_out(*, email_id: int) -> tuple[StepEmail | None, bool]:
    """The contact of an email unsubscribes from playbook emails (surveys keep going). Returns the email
    and whether they were already out. Idempotent."""
    row = StepEmail.objects.select_related("contact").filter(pk=email_id).first()
    if row is None:
        return None, False
    _opt_out, created = EmailOptOut.objects.get_or_create(
        contact_id=row.contact_id, defaults={"opted_out_at": timezone.now(), "via": row}
    )
    if created:
        StepEmail.objects.filter(contact_id=row.contact_id, status=EmailStatus.PENDING).update(
            status=EmailStatus.OPTED_OUT
        )
        logger.info("playbook email opt-out", extra={"contact_id": row.contact_id, "email_id": row.pk})
    return row, not created


def contact_opted_out(contact_id: int) -> bool:
    return EmailOptOut.objects.filter(contact_id=contact_id).exists()


# --- A test send to oneself -----------------------------------------------------------------------------------


def email_test_send(*, step: dict, actor, language: str) -> None:
    """Send a step's email to the acting person, filled with their own name as the contact's and the CSM's and
    an example customer, straight away (one email; no row, no cap, no window)."""
    if not emails.has_text(step):
        raise ValidationError(_("Write the email's subject and text first."))
    name = actor.full_name or actor.email
    recipient = emails.Recipient(
        email=actor.email,
        contact_name=name,
        customer_name=_("Example customer"),
        csm_name=name,
        csm_email=actor.email,
    )
    message = emails.build(step=step, language=language, recipient=recipient, email_id=None, test=True)
    with get_connection(fail_silently=False) as connection:
        connection.send_messages([message])
