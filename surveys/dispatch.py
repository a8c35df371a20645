"""Sending a campaign's surveys. Planning (who gets one) is ``surveys.planning``, the email
``surveys.messages``, reminders ``surveys.reminders``; the paced SMTP loop, the shared pace and the companion
thread for the marks are ``core.mail``, which the survey emails share with any other bulk email.

Sending
    ``deliveries_send_pending`` takes a campaign's due pending rows in batches of ``LEME_SURVEY_BATCH_SIZE``: at
    most one batch's emails per SMTP connection, people, customers and CSMs fetched with the batch, templates
    rendered once per language (see ``surveys.messages``). One sender per campaign at a time: a PostgreSQL advisory
    lock (``core.locks``), which the database drops with the worker's connection; a second sender finds it taken and
    stops at once. Each email is handed to the SMTP server and, once the server has accepted it ("250" after DATA),
    its row is marked sent. On PostgreSQL the marks are written behind the sends by a companion thread on its own
    connection (``SurveySentMarks``): the sender goes on with the next email while the mark commits, and each commit
    carries every mark waiting at that moment, so the sender never waits for the disk. There, with Django's SMTP
    backend, the emails also go out on ``LEME_SURVEY_SMTP_CONNECTIONS`` connections at once, driven in turn by this
    thread (``core.mail.lanes``): it builds each email and hands it over, the lanes send it and hand its mark on,
    and the refusals they report are recorded here; before each batch every email handed over has its outcome
    and every mark is committed. Elsewhere (the embedded SQLite run, or a send called inside a transaction) each row
    is claimed, sent and marked in its own short transaction instead. A temporary refusal (4xx) puts the row back
    with a growing wait (``next_attempt_at``) until ``LEME_SURVEY_MAX_ATTEMPTS``; a recipient refused for good (5xx)
    marks the row bounced and the contact's ``bounced_at`` (bounces that come back later as DSNs:
    ``surveys.bounces``); a server that cannot be reached leaves everything pending and the task retries with
    backoff. The pace, ``LEME_SURVEY_SEND_RATE`` emails per second (0 = as fast as the server takes them), is one
    for every campaign and worker together (an email provider limits the account): each email takes the next slot of
    a pace kept in Redis (``core.mail.pacing.SharedPacer``).

Exactly once, and where it is not
    A worker killed at any point leaves each row either sent (committed) or pending, and the next run sends the
    pending ones: nobody is missed and, with one exception, nobody gets two. The exception is the instant between
    the SMTP server's acceptance and the commit of that row's mark — about one commit (a millisecond or so) — in
    which a dead worker leaves the row pending although the email went out; it is sent again. SMTP has no two-phase
    handshake that could close this window; what we do is keep it that small (with several connections, one email
    per connection can be in it at once) and give every delivery a deterministic Message-ID
    (``<survey-{pk}@domain>``, reminders ``<survey-{pk}-reminder@domain>``, see ``surveys.messages.message_id``), so
    mail systems that de-duplicate on Message-ID treat the second copy as the same message. A connection dropped
    while the server's reply is awaited falls in the same window, and so do marks the database refuses (the run then
    stops: ``MarksFailed``).

What restarts a send
    ``surveys.tasks.deliveries_send`` re-queues itself while due rows remain, and schedules itself for
    the earliest ``next_attempt_at`` when only waiting rows remain. A task whose worker died comes back
    from the broker only after its visibility timeout, so the beat's ``campaigns_due`` (every few
    minutes, ``surveys.scheduling``) queues a send for every active campaign with due pending rows; a second
    sender for a campaign finds the advisory lock taken and stops at once. The lock lives as long as the
    worker's database session: a worker whose whole machine vanishes holds it until PostgreSQL notices the
    dead connection (its TCP keepalive settings), and that campaign waits until then.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from core.events import publish
from core.locks import exclusive
from core.mail.lanes import Outcome, SmtpLanes
from core.mail.marks import Mark, MarksFailed, SentMarks, can_mark_behind
from core.mail.pacing import Pacer, SharedPacer, pacer_for
from core.mail.smtp import SmtpRun, error_text, run_budget_seconds
from portfolio import services as portfolio_services
from portfolio.models import Contact
from surveys import events
from surveys.audience import deliveries_in_team
from surveys.messages import SurveyEmails
from surveys.models import Campaign, CampaignStatus, Delivery, DeliveryStatus, SkipReason

logger = logging.getLogger(__name__)

__all__ = ["MarksFailed", "SendResult", "SurveyRun", "SurveySentMarks", "deliveries_send_pending"]

RETRY_BASE_SECONDS = 120
RETRY_MAX_SECONDS = 30 * 60

# pg_try_advisory_lock(class, id) namespace: one sender per campaign (reminders: surveys.reminders).
SEND_LOCK = 0x5E4D


@dataclass
class SendResult:
    """What one run did, and whether more is left: ``more_due`` (send again now) or ``retry_at`` (only
    rows waiting after a temporary refusal remain), or ``busy`` (another worker is sending it)."""

    sent: int = 0
    bounced: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    more_due: bool = False
    retry_at: datetime | None = None
    busy: bool = False

    def summary(self) -> dict:
        data = asdict(self)
        data["retry_at"] = self.retry_at.isoformat() if self.retry_at else None
        return data


def pacer() -> Pacer | SharedPacer:
    """The survey emails' pace: ``LEME_SURVEY_SEND_RATE`` a second for every worker and campaign together,
    kept in Redis under ``LEME_SURVEY_PACE_KEY`` when the broker is Redis."""
    return pacer_for(
        settings.LEME_SURVEY_SEND_RATE, broker_url=settings.CELERY_BROKER_URL, key=settings.LEME_SURVEY_PACE_KEY
    )


# --- The rows -----------------------------------------------------------------------------------------------

# A batch loads what an email needs and no more (half the time of loading whole rows); a test counts the
# queries, so a field used later without being listed here would show up as one query per email.
_BATCH_RELATED = ("contact", "customer__owner", "employee", "recipient")
_BATCH_FIELDS = (
    *("id", "campaign_id", "email", "language", "token_salt", "attempts", "contact_id", "employee_id", "customer_id"),
    *("recipient_id", "recipient__name"),
    *("contact__name", "contact__customer_id", "contact__opted_out_at", "contact__bounced_at"),
    *("customer__name", "customer__owner_id", "customer__owner__full_name", "customer__owner__email"),
    *("employee__full_name", "employee__email"),
)


def next_batch(due: QuerySet[Delivery], *, after: int) -> list[Delivery]:
    """The next batch of due rows after row ``after``, with what their emails need."""
    return list(
        due.filter(pk__gt=after)
        .select_related(*_BATCH_RELATED)
        .only(*_BATCH_FIELDS)
        .order_by("pk")[: settings.LEME_SURVEY_BATCH_SIZE]
    )


def _still_active(campaign: Campaign) -> bool:
    """Checked before each batch: closing a campaign stops its send within one batch."""
    return Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.ACTIVE).exists()


def _due(campaign: Campaign, now: datetime) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(deliveries_in_team(campaign))
    )


def _skip_outside_team(campaign: Campaign) -> int:
    """Pending rows of a team's campaign whose person is not of that team (the team changed hands, or a row was
    written by hand) are skipped, never sent; ``_due`` leaves them out anyway, this says why."""
    if campaign.team_id is None:
        return 0
    return (
        Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.PENDING)
        .exclude(deliveries_in_team(campaign))
        .update(status=DeliveryStatus.SKIPPED, skip_reason=SkipReason.OUTSIDE_TEAM)
    )


def claimed(queryset: QuerySet[Delivery]) -> bool:
    """Lock the row for this transaction unless another worker holds it or its state moved on."""
    return bool(list(queryset.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:1]))


# The statement every email runs, in plain SQL: through the ORM its Python costs about as much as the
# database work. Names come from the model and every value is a parameter.
@lru_cache(maxsize=4)
def _claim_sql(vendor: str) -> str:
    q = db_connection.ops.quote_name
    table = q(Delivery._meta.db_table)
    lock = " FOR UPDATE SKIP LOCKED" if db_connection.features.has_select_for_update_skip_locked else ""
    pending_row = f"SELECT {q('id')} FROM {table} WHERE {q('id')} = %s AND {q('status')} = %s{lock}"  # noqa: S608
    return (
        f"UPDATE {table} SET {q('status')} = %s, {q('sent_at')} = %s, {q('expires_at')} = %s, "  # noqa: S608
        f"{q('attempts')} = {q('attempts')} + 1, {q('last_error')} = '', {q('next_attempt_at')} = NULL "
        f"WHERE {q('id')} = ({pending_row})"
    )


def _claim_as_sent(delivery_id: int, *, now: datetime, expires_at: datetime) -> bool:
    """Claim a pending row and mark it sent, in one UPDATE inside the caller's transaction: the mark
    becomes true only when that transaction commits, after the SMTP server has accepted the email. False
    when another worker holds the row (SKIP LOCKED) or it is no longer pending."""
    adapt = db_connection.ops.adapt_datetimefield_value
    with db_connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(db_connection.vendor),
            [DeliveryStatus.SENT, adapt(now), adapt(expires_at), delivery_id, DeliveryStatus.PENDING],
        )
        return cursor.rowcount == 1


def _claim_now(delivery_id: int, expires_after_days: int, now: datetime) -> bool:
    return _claim_as_sent(delivery_id, now=now, expires_at=now + timedelta(days=expires_after_days))


class SurveySentMarks(SentMarks):
    """The "sent" marks of a campaign's run on PostgreSQL, written behind the sends (see ``core.mail.marks``):
    one UPDATE for every mark waiting, each row sent at its own moment and expiring ``expires_after_days``
    later. A worker killed in between loses the marks still queued — the same window as a commit that never
    landed (see "Exactly once"), as long as one commit."""

    what = "survey sent marks"

    def __init__(self, *, expires_after_days: int) -> None:
        self.expires_after_days = expires_after_days
        super().__init__(thread_name="survey-sent-marks")

    def write(self, connection, marks: list[Mark]) -> None:
        ids = [delivery_id for delivery_id, _at in marks]
        with connection.cursor() as cursor:
            cursor.execute(
                _marks_sql(),
                [DeliveryStatus.SENT, self.expires_after_days, ids, [at for _id, at in marks], DeliveryStatus.PENDING],
            )
            written = cursor.rowcount
        if written != len(ids):
            # Only a second sender could have moved a pending row on, and the campaign's lock forbids one.
            logger.error(
                "survey sent marks found rows no longer pending", extra={"expected": len(ids), "written": written}
            )


@lru_cache(maxsize=1)
def _marks_sql() -> str:
    q = db_connection.ops.quote_name
    return (
        f"UPDATE {q(Delivery._meta.db_table)} AS d SET {q('status')} = %s, {q('sent_at')} = m.sent_at, "  # noqa: S608
        f"{q('expires_at')} = m.sent_at + %s * interval '1 day', {q('attempts')} = d.{q('attempts')} + 1, "
        f"{q('last_error')} = '', {q('next_attempt_at')} = NULL "
        "FROM unnest(%s::bigint[], %s::timestamptz[]) AS m(id, sent_at) "
        f"WHERE d.{q('id')} = m.id AND d.{q('status')} = %s"
    )


# --- Refusals -----------------------------------------------------------------------------------------------


def _defer(delivery: Delivery, error: Exception, now: datetime) -> str:
    """A temporary refusal: back to pending (undoing the claim's "sent"), tried again after a wait that
    grows with each attempt, until the attempts run out."""
    attempts = delivery.attempts + 1  # the attempt that was just refused
    fields = {"attempts": attempts, "last_error": error_text(error), "sent_at": None, "expires_at": None}
    if attempts >= settings.LEME_SURVEY_MAX_ATTEMPTS:
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        outcome = "failed"
    else:
        wait = min(RETRY_BASE_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS)
        fields.update(status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=wait))
        outcome = "deferred"
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    logger.warning("survey email refused for now", extra={"delivery_id": delivery.pk, "outcome": outcome})
    return outcome


def delivery_bounce(delivery: Delivery, *, error: str, reminder: bool) -> None:
    """The address was refused for good: a bounced survey was never received, so it leaves the sent count;
    a bounced reminder leaves the survey's own send on record. (The send's refusals and late DSNs alike.)"""
    fields = {"status": DeliveryStatus.BOUNCED, "last_error": error[:300], "next_attempt_at": None}
    if not reminder:
        fields.update(sent_at=None, expires_at=None)
    if Delivery.objects.filter(pk=delivery.pk).exclude(status=DeliveryStatus.BOUNCED).update(**fields):
        publish(
            events.DeliveryBounced(
                delivery_id=delivery.pk,
                campaign_id=delivery.campaign_id,
                contact_id=delivery.contact_id,
                customer_id=delivery.customer_id,
            )
        )


def contact_bounce(delivery: Delivery, now: datetime) -> bool:
    """Mark the delivery's contact bounced, once, so that no campaign emails them again; not when their
    address changed since the email went out (someone corrected it). True when it was marked now. A playbook's
    email (``playbooks.mailing``) is handed in the same way: anything with ``contact_id`` and ``email``."""
    if not delivery.contact_id:
        return False
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=delivery.contact_id).first()
        if contact is None or contact.bounced_at is not None or contact.email.lower() != delivery.email.lower():
            return False
        try:
            portfolio_services.contact_update(contact=contact, actor=None, bounced_at=now)
        except ValidationError:
            logger.warning("bounced contact could not be saved", extra={"contact_id": contact.pk})
            return False
    return True


def _bounce(delivery: Delivery, error: Exception, now: datetime, *, survey_sent: bool) -> str:
    """The server refused the recipient for good. ``survey_sent``: it was the reminder that bounced."""
    delivery_bounce(delivery, error=error_text(error), reminder=survey_sent)
    contact_bounce(delivery, now)
    logger.info("survey email bounced", extra={"delivery_id": delivery.pk})
    return "bounced"


def _fail(delivery: Delivery, error: Exception) -> str:
    """The server refused this message for good (not the address): keep the reason, never retry."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, last_error=error_text(error), next_attempt_at=None, sent_at=None, expires_at=None
    )
    logger.warning("survey email refused", extra={"delivery_id": delivery.pk})
    return "failed"


# --- A run --------------------------------------------------------------------------------------------------


class SurveyRun(SmtpRun):
    """One run over due rows (surveys or reminders): ``core.mail.smtp``'s connection per batch, pace, time
    budget and reconnects, and what each outcome means for the row, and the tally."""

    def __init__(self, *, emails: SurveyEmails, clock: Callable[[], datetime], budget: float) -> None:
        super().__init__(pacer=pacer(), budget=budget)
        self.emails = emails
        self.clock = clock
        self.result = SendResult()

    def send(self, delivery: Delivery, claim: Callable[[datetime], bool], *, reminder: bool) -> str:
        """Claim, send and record one row in one transaction, which commits right after the server's
        "250". ``claim(now)`` locks the row (and, for a survey, marks it sent) or says it is taken."""
        self.pacer.wait()
        with transaction.atomic():
            now = self.clock()
            if not claim(now):
                return "taken"
            smtp_outcome, error = self._hand_over(delivery, reminder=reminder)
            outcome = smtp_outcome
            if outcome == "sent" and reminder:
                Delivery.objects.filter(pk=delivery.pk).update(reminded_at=now)
            elif outcome != "sent":
                outcome = self._refused(delivery, smtp_outcome, error, now, reminder=reminder)
        return self._tally(outcome, smtp_outcome, error)

    def send_behind(self, delivery: Delivery, marks: SurveySentMarks) -> str:
        """A survey on PostgreSQL: the campaign's lock makes this run its only sender, so the row needs no
        claim before the email; once the server has said "250" the row goes to ``marks``, which commits
        it while the next email goes out. Refusals are recorded here and now."""
        self.pacer.wait()
        now = self.clock()
        smtp_outcome, error = self._hand_over(delivery, reminder=False)
        if smtp_outcome == "sent":
            marks.add(delivery.pk, now)
            outcome = "sent"
        else:
            outcome = self._refused(delivery, smtp_outcome, error, now, reminder=False)
        return self._tally(outcome, smtp_outcome, error)

    def _hand_over(self, delivery: Delivery, *, reminder: bool) -> tuple[str, Exception | None]:
        return self.hand_over(
            partial(self.emails.raw, delivery, reminder=reminder),
            partial(self.emails.message, delivery, reminder=reminder),
        )

    def _refused(self, delivery: Delivery, outcome: str, error: Exception, now: datetime, *, reminder: bool) -> str:
        if outcome == "bounced":
            return _bounce(delivery, error, now, survey_sent=reminder)
        if outcome == "failed":
            # A reminder the server will never take is given up: the survey itself went out.
            return self._give_up_reminder(delivery, error, now) if reminder else _fail(delivery, error)
        return outcome if reminder else _defer(delivery, error, now)

    def _tally(self, outcome: str, smtp_outcome: str, error: Exception | None) -> str:
        self._count(outcome)
        self.settle(smtp_outcome, error)
        return outcome

    def _count(self, outcome: str) -> None:
        if outcome in ("sent", "bounced", "failed", "deferred"):
            setattr(self.result, outcome, getattr(self.result, outcome) + 1)

    # Surveys on several connections at once (``core.mail.lanes``), their marks behind the sends.

    def lanes(self, marks: SurveySentMarks) -> SmtpLanes:
        return SmtpLanes(
            count=settings.LEME_SURVEY_SMTP_CONNECTIONS,
            pacer=self.pacer,
            clock=self.clock,
            accepted=lambda delivery, at: marks.add(delivery.pk, at),
            per_connection=settings.LEME_SURVEY_BATCH_SIZE,
        )

    def send_on(self, lanes: SmtpLanes, delivery: Delivery) -> None:
        """Hand one survey to the lanes (built here, in the sender's thread) and record what they report."""
        data = self.emails.raw(delivery) if lanes.raw else None
        built = None if data is not None else self.emails.message(delivery)
        self.record(lanes.submit(delivery, data, (lambda: built) if built is not None else None))

    def record(self, outcomes: list[Outcome]) -> None:
        """The lanes' outcomes: an accepted email's mark is already handed over; a refusal is recorded here,
        on the sender's own connection, as on a single connection."""
        for done in outcomes:
            if done.outcome == "sent":
                self._count("sent")
            else:
                self._count(self._refused(done.item, done.outcome, done.error, done.at, reminder=False))

    @staticmethod
    def _give_up_reminder(delivery: Delivery, error: Exception, now: datetime) -> str:
        Delivery.objects.filter(pk=delivery.pk).update(reminded_at=now, last_error=error_text(error))
        return "failed"


# --- A campaign's send --------------------------------------------------------------------------------------


def _skip_since_planned(campaign: Campaign, batch: list[Delivery], now: datetime) -> tuple[list[Delivery], int]:
    """Rows whose contact opted out or bounced since planning, or was surveyed by another campaign in the
    meantime (two campaigns planned at once), are skipped instead of sent."""
    reasons: dict[int, str] = {}
    for delivery in batch:
        contact = delivery.contact
        if contact is not None and contact.opted_out_at:
            reasons[delivery.pk] = SkipReason.OPTED_OUT
        elif contact is not None and contact.bounced_at:
            reasons[delivery.pk] = SkipReason.BOUNCED
    if campaign.fatigue_days:
        contact_ids = [d.contact_id for d in batch if d.contact_id and d.pk not in reasons]
        recent = set(
            Delivery.objects.filter(
                contact_id__in=contact_ids,
                status=DeliveryStatus.SENT,
                sent_at__gte=now - timedelta(days=campaign.fatigue_days),
            ).values_list("contact_id", flat=True)
        )
        reasons.update({d.pk: SkipReason.FATIGUE for d in batch if d.contact_id in recent and d.pk not in reasons})
    for reason in set(reasons.values()):
        Delivery.objects.filter(
            pk__in=[pk for pk, why in reasons.items() if why == reason], status=DeliveryStatus.PENDING
        ).update(status=DeliveryStatus.SKIPPED, skip_reason=reason)
    return [d for d in batch if d.pk not in reasons], len(reasons)


@contextmanager
def _marks_for(campaign: Campaign) -> Iterator[SurveySentMarks | None]:
    """Marks behind the sends on PostgreSQL outside a transaction (``can_mark_behind``), else None."""
    if not can_mark_behind():
        yield None
        return
    marks = SurveySentMarks(expires_after_days=campaign.expires_after_days)
    try:
        yield marks
    except BaseException:
        marks.close(quiet=True)  # what was handed over is still written; the first error is the one raised
        raise
    marks.close()


def _on_lanes(marks: SurveySentMarks | None) -> bool:
    """Several connections at once when the marks go behind the sends and the backend is Django's SMTP one
    (the round trips they overlap are the network's); one connection, email after email, otherwise."""
    return marks is not None and type(get_connection()) is SmtpBackend


def _send_batches(campaign: Campaign, run: SurveyRun, marks: SurveySentMarks | None) -> None:
    lanes: SmtpLanes | None = None
    on_lanes = _on_lanes(marks)
    cursor = 0
    try:
        while not run.out_of_time and _still_active(campaign):
            if lanes is not None:
                run.record(lanes.drain())  # every email of the last batch has its outcome (bounces recorded)
            if marks is not None:
                marks.flush()  # the fatigue check below reads the "sent" marks
            batch = next_batch(_due(campaign, run.clock()), after=cursor)
            if not batch:
                break
            cursor = batch[-1].pk
            batch, skipped = _skip_since_planned(campaign, batch, run.clock())
            run.result.skipped += skipped
            if not batch:
                continue
            if on_lanes:
                lanes = lanes or run.lanes(marks)
                for delivery in batch:
                    if run.out_of_time:
                        break
                    run.send_on(lanes, delivery)
                continue
            run.open()
            try:
                for delivery in batch:
                    if run.out_of_time:
                        break
                    if marks is None:
                        run.send(
                            delivery, partial(_claim_now, delivery.pk, campaign.expires_after_days), reminder=False
                        )
                    else:
                        run.send_behind(delivery, marks)
            finally:
                run.close()
        if lanes is not None:
            run.record(lanes.drain())
    finally:
        if lanes is not None:
            lanes.close()


def deliveries_send_pending(
    *, campaign_id: int, now: datetime | None = None, budget_seconds: float | None = None
) -> SendResult:
    """Send a campaign's due pending deliveries, batch by batch, until none are left or the run's time is
    up. ``now`` fixes the clock (tests); otherwise it is read per email."""
    clock = (lambda: now) if now else timezone.now
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.ACTIVE:
        return SendResult()
    with exclusive(SEND_LOCK, campaign.pk) as acquired:
        if not acquired:
            return SendResult(busy=True)
        run = SurveyRun(emails=SurveyEmails(campaign), clock=clock, budget=budget_seconds or run_budget_seconds())
        run.result.skipped += _skip_outside_team(campaign)
        with _marks_for(campaign) as marks:
            _send_batches(campaign, run, marks)
        result = run.result
        result.more_due = _due(campaign, clock()).exists()
        if not result.more_due:
            result.retry_at = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.PENDING).aggregate(
                at=Min("next_attempt_at")
            )["at"]
    logger.info("survey send run", extra={"campaign_id": campaign.pk, **result.summary()})
    return result
