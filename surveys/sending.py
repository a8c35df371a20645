"""Sending surveys: who gets one, the email they get, and the send itself.

Planning
    A campaign's round is planned before anything is sent: one ``Delivery`` row per person, inserted in
    bulk with ON CONFLICT DO NOTHING against the (campaign, round, person) constraint, so planning twice
    plans nobody twice. People who must not be emailed get a row too, ``skipped`` with its reason (no
    email, opted out, bounced before, or surveyed by any campaign in the last ``campaign.fatigue_days``),
    so the campaign page can say who was left out and why. Opt-outs, bounces and fatigue are checked
    again, per batch, just before sending.

Sending
    ``deliveries_send_pending`` takes a campaign's due pending rows in batches of
    ``LEME_SURVEY_BATCH_SIZE``: one SMTP connection per batch, people, customers and CSMs fetched with the
    batch, templates rendered once per language (see "The email" below). One sender per campaign at a time:
    a PostgreSQL advisory lock, which the database drops with the worker's connection; a second sender
    finds it taken and stops at once. Each email is handed to the SMTP server and, once the server has
    accepted it ("250" after DATA), its row is marked sent. On PostgreSQL the marks are written behind the
    sends by a companion thread on its own connection (``_SentMarks``): the sender goes on with the next
    email while the mark commits, and each commit carries every mark waiting at that moment, so the sender
    never waits for the disk. Elsewhere (the embedded SQLite run, or a send called inside a transaction)
    each row is claimed, sent and marked in its own short transaction instead. A temporary refusal (4xx)
    puts the row back with a growing wait (``next_attempt_at``) until ``LEME_SURVEY_MAX_ATTEMPTS``; a
    recipient refused for good (5xx) marks the row bounced and the contact's ``bounced_at`` (bounces that
    come back later as DSNs: ``surveys.bounces``); a server that cannot be reached leaves everything pending
    and the task retries with backoff. The pace, ``LEME_SURVEY_SEND_RATE`` emails per second (0 = as fast
    as the server takes them), is one for every campaign and worker together (an email provider limits
    the account): each email takes the next slot of a pace kept in Redis (``SharedPacer``).

Exactly once, and where it is not
    A worker killed at any point leaves each row either sent (committed) or pending, and the next run sends
    the pending ones: nobody is missed and, with one exception, nobody gets two. The exception is the
    instant between the SMTP server's acceptance and the commit of that row's mark — about one commit
    (a millisecond or so) — in which a dead worker leaves the row pending although the email went out; it
    is sent again. SMTP has no two-phase handshake that could close this window; what we do is keep it that
    small and give every delivery a deterministic Message-ID (``<survey-{pk}@domain>``, reminders
    ``<survey-{pk}-reminder@domain>``), so mail systems that de-duplicate on Message-ID treat the second
    copy as the same message. A connection dropped while the server's reply is awaited falls in the same
    window, and so do marks the database refuses (the run then stops: ``MarksFailed``).

What restarts a send
    ``surveys.tasks.deliveries_send`` re-queues itself while due rows remain, and schedules itself for
    the earliest ``next_attempt_at`` when only waiting rows remain. A task whose worker died comes back
    from the broker only after its visibility timeout, so the beat's ``campaigns_due`` (every few
    minutes) queues a send for every active campaign with due pending rows; a second sender for a
    campaign finds the advisory lock taken and stops at once. The lock lives as long as the worker's
    database session: a worker whose whole machine vanishes holds it until PostgreSQL notices the dead
    connection (its TCP keepalive settings), and that campaign waits until then.

The links carry only the token (see ``surveys.tokens``): ``SITE_URL/s/<token>/?score=N`` answers,
``SITE_URL/s/<token>/unsubscribe/`` opts out (also one-click, RFC 8058).
"""

import logging
import queue
import re
import smtplib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.utils import formatdate, parseaddr
from functools import lru_cache, partial
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Min, Q, QuerySet, Subquery
from django.db.models.expressions import OuterRef
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from accounts.models import User
from portfolio import services as portfolio_services
from portfolio.models import Contact
from surveys import employees, scoring, services, tokens
from surveys.models import (
    Campaign,
    CampaignMode,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    EmployeeAudience,
    EmployeeRecipient,
    SkipReason,
    SurveyKind,
)

logger = logging.getLogger(__name__)

# Errors that say "the SMTP server could not be reached or dropped us", as opposed to an answer about
# one message. The tasks retry these with backoff.
TRANSIENT_SMTP_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError)

# Recurring campaigns look for contacts due again at most this often; rounds are days apart.
RECURRING_CHECK_EVERY = timedelta(hours=1)
RETRY_BASE_SECONDS = 120
RETRY_MAX_SECONDS = 30 * 60
# Consecutive dropped connections inside one run before giving the whole run back to Celery's retry.
MAX_RECONNECTS = 3
PLAN_CHUNK = 2000

# pg_try_advisory_lock(class, id) namespaces: one sender per campaign, one reminder run at a time.
_SEND_LOCK = 0x5E4D
_REMIND_LOCK = 0x5E4E


# --- Links -------------------------------------------------------------------------------------------


def answer_url(token: str, score: int | None = None) -> str:
    """The public answer page (``survey_public:answer``), with the score chosen in the email if any."""
    url = f"{settings.SITE_URL}/s/{token}/"
    return url if score is None else f"{url}?score={score}"


def unsubscribe_url(token: str) -> str:
    """The public opt-out page (``survey_public:unsubscribe``); it also takes the RFC 8058 one-click POST."""
    return f"{settings.SITE_URL}/s/{token}/unsubscribe/"


def unsubscribe_mailto(token: str) -> str:
    return f"mailto:{settings.LEME_UNSUBSCRIBE_MAILTO}?subject={quote(f'unsubscribe {token}')}"


@lru_cache(maxsize=4)
def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "leme"


def message_id(delivery_id: int, *, reminder: bool = False) -> str:
    """The same Message-ID every time this delivery is sent, so a resend after a crash is the same email."""
    return f"<survey-{delivery_id}{'-reminder' if reminder else ''}@{_domain_of(settings.DEFAULT_FROM_EMAIL)}>"


# --- Planning ----------------------------------------------------------------------------------------


@dataclass
class PlanResult:
    """What planning put in: rows to send and rows skipped, by reason. A row that lost a race with a
    concurrent planner for the same person and round is counted here but was not inserted."""

    pending: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, other: "PlanResult") -> None:
        self.pending += other.pending
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count


def _recently_surveyed(contact_ids: list[int], *, since: datetime) -> set[int]:
    """Contacts emailed by any campaign since ``since``, or about to be by an active one: the fatigue rule."""
    about_to_be = Q(status=DeliveryStatus.PENDING, created_at__gte=since, campaign__status=CampaignStatus.ACTIVE)
    return set(
        Delivery.objects.filter(contact_id__in=contact_ids)
        .filter(Q(status=DeliveryStatus.SENT, sent_at__gte=since) | about_to_be)
        .values_list("contact_id", flat=True)
    )


def _with_last_round(campaign: Campaign, people: QuerySet, person_field: str) -> QuerySet:
    last = Delivery.objects.filter(campaign=campaign, **{person_field: OuterRef("pk")}).order_by("-round")
    return people.annotate(
        last_round=Subquery(last.values("round")[:1]), last_planned_at=Subquery(last.values("created_at")[:1])
    )


def _due_people(campaign: Campaign, people: QuerySet, person_field: str, now: datetime) -> QuerySet:
    """People due for a new round: never asked by a one-shot campaign, not asked for ``every_days`` by a
    recurring one; transactional campaigns ask again every time their event happens."""
    people = _with_last_round(campaign, people, person_field)
    if campaign.mode == CampaignMode.RECURRING:
        return people.filter(
            Q(last_round__isnull=True) | Q(last_planned_at__lte=now - timedelta(days=campaign.every_days or 0))
        )
    if campaign.mode == CampaignMode.TRANSACTIONAL:
        return people
    return people.filter(last_round__isnull=True)


def _insert(rows: list[Delivery], result: PlanResult) -> None:
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    for row in rows:
        if row.status == DeliveryStatus.PENDING:
            result.pending += 1
        else:
            result.skipped[row.skip_reason] = result.skipped.get(row.skip_reason, 0) + 1


def _plan_contacts(campaign: Campaign, contacts: QuerySet[Contact], now: datetime) -> PlanResult:
    result = PlanResult()
    fields = ("pk", "email", "language", "opted_out_at", "bounced_at", "customer_id", "last_round")
    due = _due_people(campaign, contacts, "contact", now).order_by("pk").values_list(*fields)
    chunk: list[tuple] = []
    for row in due.iterator(chunk_size=PLAN_CHUNK):
        chunk.append(row)
        if len(chunk) == PLAN_CHUNK:
            _plan_contact_chunk(campaign, chunk, now, result)
            chunk = []
    if chunk:
        _plan_contact_chunk(campaign, chunk, now, result)
    return result


def _plan_contact_chunk(campaign: Campaign, chunk: list[tuple], now: datetime, result: PlanResult) -> None:
    fatigued: set[int] = set()
    if campaign.fatigue_days:
        fatigued = _recently_surveyed([row[0] for row in chunk], since=now - timedelta(days=campaign.fatigue_days))
    rows = []
    for contact_id, email, language, opted_out_at, bounced_at, customer_id, last_round in chunk:
        if not email:
            reason = SkipReason.NO_EMAIL
        elif opted_out_at:
            reason = SkipReason.OPTED_OUT
        elif bounced_at:
            reason = SkipReason.BOUNCED
        elif contact_id in fatigued:
            reason = SkipReason.FATIGUE
        else:
            reason = ""
        salt, token_hash = tokens.salt_and_hash()
        rows.append(
            Delivery(
                campaign=campaign,
                round=(last_round or 0) + 1,
                contact_id=contact_id,
                customer_id=customer_id,
                email=email or "",
                language=language,
                token_salt=salt,
                token_hash=token_hash,
                status=DeliveryStatus.SKIPPED if reason else DeliveryStatus.PENDING,
                skip_reason=reason,
                created_at=now,
            )
        )
    _insert(rows, result)


def _plan_people(campaign: Campaign, people: QuerySet, field: str, now: datetime) -> PlanResult:
    """eNPS: one row per active person (a Leme user, ``field="employee"``, or someone of the imported list,
    ``field="recipient"``), in their language, with their team as it is now; no fatigue or opt-out, the
    employer asks its own people."""
    result = PlanResult()
    rows = []
    due = _due_people(campaign, people, field, now).order_by("pk")
    values = due.values_list("pk", "email", "language", "team_id", "last_round")
    for person_id, email, language, team_id, last_round in values:
        salt, token_hash = tokens.salt_and_hash()
        rows.append(
            Delivery(
                campaign=campaign,
                round=(last_round or 0) + 1,
                **{f"{field}_id": person_id},
                team_id=team_id,
                email=email,
                language=language,
                token_salt=salt,
                token_hash=token_hash,
                status=DeliveryStatus.PENDING if email else DeliveryStatus.SKIPPED,
                skip_reason="" if email else SkipReason.NO_EMAIL,
                created_at=now,
            )
        )
    _insert(rows, result)
    return result


def _plan_employees(campaign: Campaign, employees: QuerySet[User], now: datetime) -> PlanResult:
    return _plan_people(campaign, employees, "employee", now)


def _plan_recipients(campaign: Campaign, recipients: QuerySet[EmployeeRecipient], now: datetime) -> PlanResult:
    return _plan_people(campaign, recipients, "recipient", now)


def _plan_enps(campaign: Campaign, now: datetime) -> PlanResult:
    """eNPS asks Leme users, the imported list, or both; with both, a user who is also on the list is asked
    once (as the user: ``employees.audience_recipients`` leaves them out)."""
    result = PlanResult()
    audience = employees.employees_audience(campaign)
    if audience in (EmployeeAudience.USERS, EmployeeAudience.BOTH):
        result.add(_plan_employees(campaign, services.audience_employees(campaign), now))
    if audience in (EmployeeAudience.LIST, EmployeeAudience.BOTH):
        result.add(_plan_recipients(campaign, employees.audience_recipients(campaign), now))
    return result


@transaction.atomic
def campaign_plan(*, campaign_id: int, now: datetime | None = None) -> PlanResult | None:
    """Plan the due round of a "now", "at" or recurring campaign. None when the campaign has nothing to
    plan (not active, not yet time, transactional, or a one-shot round already planned).

    The campaign row is locked so two runs plan one after the other, the second finding nobody due."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.ACTIVE or campaign.mode == CampaignMode.TRANSACTIONAL:
        return None
    if campaign.mode in (CampaignMode.NOW, CampaignMode.AT) and campaign.last_run_at is not None:
        return None
    if campaign.mode == CampaignMode.AT and campaign.send_at and campaign.send_at > now:
        return None
    if campaign.kind == SurveyKind.ENPS:
        result = _plan_enps(campaign, now)
    else:
        result = _plan_contacts(campaign, services.audience_contacts(campaign), now)
    campaign.last_run_at = now
    campaign.save(update_fields=["last_run_at"])
    logger.info("survey round planned", extra={"campaign_id": campaign.pk, "pending": result.pending})
    return result


def send_transactional(*, trigger: str, customer_id: int) -> PlanResult:
    """An event happened to a customer (handoff, success review): every active transactional campaign
    on that trigger surveys the customer's contacts in its audience, subject to the fatigue and opt-out
    rules, and the send is queued once this commits."""
    from surveys.tasks import deliveries_send

    now = timezone.now()
    total = PlanResult()
    campaigns = Campaign.objects.filter(
        status=CampaignStatus.ACTIVE, mode=CampaignMode.TRANSACTIONAL, trigger=trigger
    ).exclude(kind=SurveyKind.ENPS)
    for campaign in campaigns:
        with transaction.atomic():
            locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
            result = _plan_contacts(locked, services.audience_contacts(locked).filter(customer_id=customer_id), now)
            if result.pending:
                deliveries_send.delay_on_commit(campaign.pk)
        total.add(result)
    return total


@transaction.atomic
def send_to_contact(*, campaign: Campaign, contact: Contact) -> Delivery:
    """Survey one contact now through an active transactional campaign (the API's trigger, e.g. after a
    support ticket), subject to the same rules as every send. Returns the new delivery: pending (sent once
    this commits) or skipped with its reason (a second call inside the fatigue window is skipped as
    fatigue). Calls for one campaign take turns on the campaign's row, so each gets its own round.
    Raises ValidationError for a campaign that is not an active transactional one."""
    from surveys.tasks import deliveries_send

    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.ACTIVE:
        raise ValidationError(_("This campaign is not active."))
    if campaign.mode != CampaignMode.TRANSACTIONAL or campaign.kind == SurveyKind.ENPS:
        raise ValidationError(_("Only a campaign sent when an event happens can survey one contact."))
    _plan_contacts(campaign, Contact.objects.filter(pk=contact.pk), timezone.now())
    delivery = Delivery.objects.filter(campaign=campaign, contact=contact).order_by("-round").first()
    if delivery.status == DeliveryStatus.PENDING:
        deliveries_send.delay_on_commit(campaign.pk)
    return delivery


# --- The email ---------------------------------------------------------------------------------------

# Rendering templates and building MIME for every email would cost more than the SMTP exchange itself.
# So the templates are rendered once per language and kind of reader with these markers in place of each
# email's own values (separate markers for the plain-text and the HTML part, which escapes them), and
# for the SMTP backend the whole message is built once, by Django's own MIME code, into a byte "frame"
# that each email fills in. The token marker has the token's length (43), so headers fold alike; the
# person markers carry a non-ASCII letter so both parts are framed as 8bit, whatever the names are.
_TOKEN = "LEMExxTOKENxx".ljust(43, "x")
_TEXT = {"person": "LEMExxPERSONxxTxxé", "customer": "LEMExxCUSTOMERxxTxx", "csm": "LEMExxCSMxxTxx"}
_HTML = {"person": "LEMExxPERSONxxHxxé", "customer": "LEMExxCUSTOMERxxHxx", "csm": "LEMExxCSMxxHxx"}
_TO = "lemexxtoxx@lemexx.invalid"
_REPLY_TO = "lemexxreplytoxx@lemexx.invalid"
_MESSAGE_ID = "<lemexxmessageidxx@lemexx.invalid>"
_DATE = "LEMExxDATExx"
# The templates' longest line is well under 500 bytes; values up to this keep every line under 998.
_MAX_FILLED = 150

NPS_COLOURS = [(6, "#c8372d", "#ffffff"), (8, "#f2b705", "#17212b"), (10, "#1f8a4c", "#ffffff")]
PLAIN_COLOUR = ("#0f4c5c", "#ffffff")


def _subject(kind: str) -> str:
    return {
        SurveyKind.NPS: _("Would you recommend us? One quick question"),
        SurveyKind.ENPS: _("Would you recommend working here? One quick question"),
        SurveyKind.CSAT: _("How satisfied are you? One quick question"),
        SurveyKind.CES: _("Was it easy? One quick question"),
        SurveyKind.CHI: _("How are things going? A few quick questions"),
    }[kind]


def _buttons(campaign: Campaign) -> list[dict]:
    """One link per score, coloured like the NPS bands (red 0–6, yellow 7–8, green 9–10) for NPS and
    eNPS; CHI has no score in the email, its criteria are answered on the page."""
    if campaign.kind == SurveyKind.CHI:
        return []
    buttons = []
    for score in range(campaign.scale_min, campaign.scale_top + 1):
        background, colour = PLAIN_COLOUR
        if campaign.kind in (SurveyKind.NPS, SurveyKind.ENPS):
            background, colour = next((bg, fg) for top, bg, fg in NPS_COLOURS if score <= top)
        buttons.append({"score": score, "url": answer_url(_TOKEN, score), "background": background, "colour": colour})
    return buttons


def _content_language(language: str) -> str:
    head, _sep, tail = language.partition("-")
    return f"{head}-{tail.upper()}" if tail else head


def _address(email: str) -> str:
    """The address as Django's SMTP backend would write it; plain ASCII addresses need no work."""
    if email.isascii() and not any(c in email for c in ' ,"<>()\r\n'):
        return email
    return sanitize_address(email, settings.DEFAULT_CHARSET)


@dataclass(frozen=True)
class _Layout:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class _Frame:
    """A whole message as bytes, split at the markers: ``pieces`` with ``slots[i]`` between piece i and
    piece i + 1."""

    pieces: tuple[bytes, ...]
    slots: tuple[str, ...]

    def fill(self, values: dict[str, bytes]) -> bytes:
        out = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            out.append(values[slot])
            out.append(piece)
        return b"".join(out)


@dataclass(frozen=True)
class _Person:
    """Who one email is for, whatever the row points at (a contact or an employee)."""

    name: str
    customer_name: str
    csm_name: str
    csm_email: str

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0] if self.name else ""


def _person(delivery: Delivery) -> _Person:
    if delivery.employee_id:
        return _Person(delivery.employee.full_name, "", "", "")
    if delivery.recipient_id:
        return _Person(delivery.recipient.name, "", "", "")
    customer = delivery.customer or delivery.contact.customer
    owner = customer.owner
    if owner is None:
        return _Person(delivery.contact.name, customer.name, "", "")
    return _Person(delivery.contact.name, customer.name, owner.full_name or owner.email, owner.email)


class SurveyEmails:
    """Builds the survey and reminder emails of one campaign: ``message()`` as a Django email for any
    backend, ``raw()`` as the bytes Django's SMTP backend would send, built from a frame."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self._layouts: dict[tuple, _Layout] = {}
        self._frames: dict[tuple, _Frame | None] = {}

    def _context(self, language: str, *, reminder: bool, employee: bool, has_csm: bool, markers: dict) -> dict:
        campaign = self.campaign
        low, high = scoring.scale_labels(campaign.kind)
        buttons = _buttons(campaign)
        return {
            "campaign": campaign,
            "language": language,
            "question": campaign.question(language),
            "buttons": buttons,
            "low": buttons[0]["score"] if buttons else None,
            "high": buttons[-1]["score"] if buttons else None,
            "low_label": low,
            "high_label": high,
            "answer_url": answer_url(_TOKEN),
            "unsubscribe_url": unsubscribe_url(_TOKEN),
            "person_name": markers["person"],
            "customer_name": markers["customer"],
            "csm_name": markers["csm"] if has_csm else "",
            "employee": employee,
            "reminder": reminder,
            "days": campaign.expires_after_days,
        }

    def _layout(self, key: tuple) -> _Layout:
        if key not in self._layouts:
            language, reminder, employee, has_csm = key
            with translation.override(language):
                options = {"reminder": reminder, "employee": employee, "has_csm": has_csm}
                subject = _subject(self.campaign.kind)
                if reminder:
                    subject = _("Reminder: %(subject)s") % {"subject": subject}
                self._layouts[key] = _Layout(
                    subject=subject,
                    text=render_to_string(
                        "surveys/email/survey.txt", self._context(language, markers=_TEXT, **options)
                    ),
                    html=render_to_string(
                        "surveys/email/survey.html", self._context(language, markers=_HTML, **options)
                    ),
                )
        return self._layouts[key]

    @staticmethod
    def _key(delivery: Delivery, person: _Person, reminder: bool) -> tuple:
        return (
            delivery.language,
            reminder,
            bool(delivery.employee_id or delivery.recipient_id),
            bool(person.csm_name),
        )

    def message(self, delivery: Delivery, *, reminder: bool = False) -> EmailMultiAlternatives:
        """The email as a Django message (any email backend)."""
        person = _person(delivery)
        layout = self._layout(self._key(delivery, person, reminder))
        token = tokens.token_for(delivery.token_salt)
        values = {
            "person": person.first_name,
            "customer": person.customer_name,
            "csm": person.csm_name,
        }
        text, html = layout.text.replace(_TOKEN, token), layout.html.replace(_TOKEN, token)
        for name, value in values.items():
            text = text.replace(_TEXT[name], value)
            html = html.replace(_HTML[name], escape(value))
        return self._build(
            layout,
            text=text,
            html=html,
            to=delivery.email,
            reply_to=person.csm_email,
            message_id=message_id(delivery.pk, reminder=reminder),
            date=None,
            token=token,
            language=delivery.language,
            contact=bool(delivery.contact_id),
        )

    def _build(self, layout, *, text, html, to, reply_to, message_id, date, token, language, contact):
        headers = {"Message-ID": message_id, "Content-Language": _content_language(language)}
        if date:
            headers["Date"] = date
        if contact:
            # Employees (eNPS) cannot opt out of their employer's survey; contacts can, in one click.
            headers["List-Unsubscribe"] = f"<{unsubscribe_url(token)}>, <{unsubscribe_mailto(token)}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message = EmailMultiAlternatives(
            subject=layout.subject,
            body=text,
            to=[to],
            reply_to=[reply_to] if reply_to else None,
            headers=headers,
        )
        message.attach_alternative(html, "text/html")
        return message

    def _frame(self, key: tuple, *, contact: bool) -> _Frame | None:
        """The message of this layout as Django's SMTP backend would send it, with markers. None (use
        ``message()``) if a part came out in quoted-printable (a line over 998 bytes), where markers
        could be split."""
        frame_key = (*key, contact)
        if frame_key not in self._frames:
            layout = self._layout(key)
            language, _reminder, _employee, has_csm = key
            message = self._build(
                layout,
                text=layout.text,
                html=layout.html,
                to=_TO,
                reply_to=_REPLY_TO if has_csm else "",
                message_id=_MESSAGE_ID,
                date=_DATE,
                token=_TOKEN,
                language=language,
                contact=contact,
            )
            data = message.message().as_bytes(linesep="\r\n")
            markers = [_TOKEN, _TO, _REPLY_TO, _MESSAGE_ID, _DATE, *_TEXT.values(), *_HTML.values()]
            pattern = re.compile(b"|".join(re.escape(m.encode()) for m in markers))
            usable = data.count(b"Content-Transfer-Encoding: 8bit") == 2 and all(
                m.encode() in data for m in (_TOKEN, _TO, _MESSAGE_ID, _DATE)
            )
            self._frames[frame_key] = (
                _Frame(
                    pieces=tuple(pattern.split(data)),
                    slots=tuple(m.decode() for m in pattern.findall(data)),
                )
                if usable
                else None
            )
        return self._frames[frame_key]

    def raw(self, delivery: Delivery, *, reminder: bool = False) -> tuple[str, bytes] | None:
        """(envelope recipient, message bytes), exactly what Django's SMTP backend would send for
        ``message()`` but for the Date and the MIME boundary; None when only ``message()`` can do it."""
        person = _person(delivery)
        key = self._key(delivery, person, reminder)
        frame = self._frame(key, contact=bool(delivery.contact_id))
        if frame is None:
            return None
        to = _address(delivery.email)
        token = tokens.token_for(delivery.token_salt).encode()
        values = {
            _TOKEN: token,
            _TO: to.encode(),
            _REPLY_TO: _address(person.csm_email).encode() if person.csm_email else b"",
            _MESSAGE_ID: message_id(delivery.pk, reminder=reminder).encode(),
            _DATE: formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode(),
        }
        for name, value in (
            ("person", person.first_name),
            ("customer", person.customer_name),
            ("csm", person.csm_name),
        ):
            html = escape(value)
            if len(html) > _MAX_FILLED:
                return None  # a line could pass SMTP's 998 bytes: Django's message() folds it for us
            values[_TEXT[name]] = value.encode()
            values[_HTML[name]] = html.encode()
        return to, frame.fill(values)


# --- Sending -----------------------------------------------------------------------------------------


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


class _Pacer:
    """At most ``per_second`` emails a second from this process (0: no limit), without bursts after a
    pause. Used when there is no Redis to share the pace with (the embedded run)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1 / per_second if per_second > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next_at = max(self.next_at, time.monotonic()) + self.interval


# One slot per email on Redis's clock: the next free slot moves on by one interval per email, and never
# lags behind "now" (a pause earns no burst). Returns how long the caller waits for its slot, and the slot.
_RESERVE_SLOT = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now_us then slot = now_us end
redis.call('SET', KEYS[1], slot + interval, 'PX', math.floor((slot + interval - now_us) / 1000) + 1000)
return {slot - now_us, slot}
"""


class SharedPacer:
    """The survey emails' pace shared by every worker and campaign (an email provider limits the account,
    not one campaign): each email takes the next slot from Redis, ``1 / per_second`` apart. Should Redis
    fail, this worker keeps its own pace and says so in the log."""

    def __init__(self, per_second: float, *, url: str, key: str) -> None:
        import redis

        self.interval_us = round(1_000_000 / per_second)
        self.key = key
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(_RESERVE_SLOT)
        self._fallback = _Pacer(per_second)

    def reserve(self) -> tuple[float, int]:
        """(seconds to wait, the slot in microseconds of Redis's clock)."""
        wait_us, slot = self._script(keys=[self.key], args=[self.interval_us])
        return wait_us / 1_000_000, slot

    def wait(self) -> None:
        import redis

        try:
            delay, _slot = self.reserve()
        except redis.RedisError:
            logger.warning("survey send pace kept by this worker alone: Redis is unreachable")
            self._fallback.wait()
            return
        if delay > 0:
            time.sleep(delay)


def _pacer() -> _Pacer | SharedPacer:
    rate = settings.LEME_SURVEY_SEND_RATE
    url = settings.CELERY_BROKER_URL or ""
    if rate > 0 and url.startswith(("redis://", "rediss://", "unix://")):
        return SharedPacer(rate, url=url, key=settings.LEME_SURVEY_PACE_KEY)
    return _Pacer(rate)


@contextmanager
def _exclusive(lock_class: int, object_id: int) -> Iterator[bool]:
    """A PostgreSQL session advisory lock: True if this process got it. It is released on exit, or by
    the database when the worker's connection dies. Other databases (the embedded SQLite run, one
    process) always get it; the per-row claims keep sends exactly-once either way."""
    if db_connection.vendor != "postgresql":
        yield True
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [lock_class, object_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with db_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, object_id])


def _budget_seconds() -> float:
    """How long one task run sends before handing over to a fresh task, well inside the soft limit so
    the limit never interrupts an email between the server's acceptance and our commit."""
    return max(10.0, getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", 300) / 2)


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


def _batch(due: QuerySet[Delivery], *, after: int) -> list[Delivery]:
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
    return Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def _claimed(queryset: QuerySet[Delivery]) -> bool:
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


def _claim_reminder(campaign: Campaign, delivery_id: int, now: datetime) -> bool:
    """Lock the row if it still wants its reminder: the answer and the opt-out are checked again here."""
    return _claimed(_reminders_due(campaign, now).filter(pk=delivery_id))


class MarksFailed(RuntimeError):
    """The companion connection could not record "sent" marks: the run stops sending at once."""


@dataclass(frozen=True)
class _Flush:
    done: threading.Event


class _SentMarks:
    """The "sent" marks of a run on PostgreSQL, written behind the sends by a companion thread on its own
    database connection: the sender hands over each accepted row and goes on with the next email while
    the mark commits. Each write takes every mark waiting at that moment (one UPDATE, one commit, one
    disk flush for all of them), so the marks keep up with any sending speed, never more than one commit
    behind. A worker killed in between loses the marks still queued — the same window as a commit that
    never landed (see "Exactly once"), as long as one commit. A write that fails stops the run: ``add``
    and ``flush`` raise ``MarksFailed``."""

    def __init__(self, *, expires_after_days: int) -> None:
        self.expires_after_days = expires_after_days
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="survey-sent-marks", daemon=True)
        self._thread.start()

    def add(self, delivery_id: int, sent_at: datetime) -> None:
        self._raise_if_failed()
        self._queue.put((delivery_id, sent_at))

    def flush(self) -> None:
        """Wait until every mark handed over so far is committed."""
        done = threading.Event()
        self._queue.put(_Flush(done))
        while not done.wait(0.5):
            if not self._thread.is_alive():
                break
        self._raise_if_failed()

    def close(self, *, quiet: bool = False) -> None:
        """Write what is left and stop the thread; ``quiet``: a write error is only logged."""
        self._queue.put(None)
        self._thread.join()
        if quiet and self._error is not None:
            logger.error("survey sent marks could not be written", extra={"error": str(self._error)})
            return
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise MarksFailed(f"survey sent marks could not be written: {self._error}") from self._error

    def _work(self) -> None:
        from django.db import connection  # this thread's own connection

        try:
            while True:
                items = [self._queue.get()]
                while not self._queue.empty():
                    items.append(self._queue.get_nowait())
                marks = [item for item in items if isinstance(item, tuple)]
                if marks and self._error is None:
                    try:
                        self._write(connection, marks)
                    except Exception as error:  # handed to the sender, which stops
                        self._error = error
                for item in items:
                    if isinstance(item, _Flush):
                        item.done.set()
                if None in items:
                    return
        finally:
            connection.close()

    def _write(self, connection, marks: list[tuple[int, datetime]]) -> None:
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


def _error_text(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"[:300]
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        return f"{error.smtp_code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"[:300]
    return f"{type(error).__name__}: {error}"[:300]


def _defer(delivery: Delivery, error: Exception, now: datetime) -> str:
    """A temporary refusal: back to pending (undoing the claim's "sent"), tried again after a wait that
    grows with each attempt, until the attempts run out."""
    attempts = delivery.attempts + 1  # the attempt that was just refused
    fields = {"attempts": attempts, "last_error": _error_text(error), "sent_at": None, "expires_at": None}
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
    Delivery.objects.filter(pk=delivery.pk).update(**fields)


def contact_bounce(delivery: Delivery, now: datetime) -> bool:
    """Mark the delivery's contact bounced, once, so that no campaign emails them again; not when their
    address changed since the email went out (someone corrected it). True when it was marked now."""
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
    delivery_bounce(delivery, error=_error_text(error), reminder=survey_sent)
    contact_bounce(delivery, now)
    logger.info("survey email bounced", extra={"delivery_id": delivery.pk})
    return "bounced"


def _fail(delivery: Delivery, error: Exception) -> str:
    """The server refused this message for good (not the address): keep the reason, never retry."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, last_error=_error_text(error), next_attempt_at=None, sent_at=None, expires_at=None
    )
    logger.warning("survey email refused", extra={"delivery_id": delivery.pk})
    return "failed"


def _smtp_send(send: Callable[[], object]) -> tuple[str, Exception | None]:
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


def _connection_lost(smtp) -> bool:
    client = getattr(smtp, "connection", None)
    return client is not None and getattr(client, "sock", True) is None


class _Run:
    """One run over due rows: an SMTP connection per batch, pacing, a time budget, and the tally."""

    def __init__(self, *, emails: SurveyEmails, clock: Callable[[], datetime], budget: float) -> None:
        self.emails = emails
        self.clock = clock
        self.deadline = time.monotonic() + budget
        self.pacer = _pacer()
        self.result = SendResult()
        self.smtp = None
        self.raw = False
        self.envelope_from = ""
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

    def close(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

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

    def send_behind(self, delivery: Delivery, marks: "_SentMarks") -> str:
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
        raw = self.emails.raw(delivery, reminder=reminder) if self.raw else None
        if raw is not None:
            to, data = raw
            return _smtp_send(lambda: self.smtp.connection.sendmail(self.envelope_from, [to], data))
        message = self.emails.message(delivery, reminder=reminder)
        return _smtp_send(lambda: self.smtp.send_messages([message]))

    def _refused(self, delivery: Delivery, outcome: str, error: Exception, now: datetime, *, reminder: bool) -> str:
        if outcome == "bounced":
            return _bounce(delivery, error, now, survey_sent=reminder)
        if outcome == "failed":
            # A reminder the server will never take is given up: the survey itself went out.
            return self._give_up_reminder(delivery, error, now) if reminder else _fail(delivery, error)
        return outcome if reminder else _defer(delivery, error, now)

    def _tally(self, outcome: str, smtp_outcome: str, error: Exception | None) -> str:
        if outcome == "sent":
            self.drops = 0
        if outcome in ("sent", "bounced", "failed", "deferred"):
            setattr(self.result, outcome, getattr(self.result, outcome) + 1)
        if smtp_outcome == "dropped" or _connection_lost(self.smtp):
            self._reconnect(error)
        return outcome

    @staticmethod
    def _give_up_reminder(delivery: Delivery, error: Exception, now: datetime) -> str:
        Delivery.objects.filter(pk=delivery.pk).update(reminded_at=now, last_error=_error_text(error))
        return "failed"

    def _reconnect(self, error: Exception | None) -> None:
        """A server that drops us once (say, a per-connection message limit) gets a new connection; one
        that keeps dropping us gets the run back to Celery's retry with backoff."""
        self.drops += 1
        self.close()
        if self.drops > MAX_RECONNECTS:
            raise smtplib.SMTPServerDisconnected(f"SMTP connection lost {self.drops} times in a row: {error}")
        self.open()


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


def _marks_behind() -> bool:
    """Whether sends can mark their rows from a companion connection: PostgreSQL (whose campaign lock
    makes a run the only sender), and not inside a transaction, whose rows another connection can't see."""
    return db_connection.vendor == "postgresql" and not db_connection.in_atomic_block


@contextmanager
def _marks_for(campaign: Campaign) -> Iterator[_SentMarks | None]:
    if not _marks_behind():
        yield None
        return
    marks = _SentMarks(expires_after_days=campaign.expires_after_days)
    try:
        yield marks
    except BaseException:
        marks.close(quiet=True)  # what was handed over is still written; the first error is the one raised
        raise
    marks.close()


def _send_batches(campaign: Campaign, run: _Run, marks: _SentMarks | None) -> None:
    cursor = 0
    while not run.out_of_time and _still_active(campaign):
        if marks is not None:
            marks.flush()  # the fatigue check below reads the "sent" marks
        batch = _batch(_due(campaign, run.clock()), after=cursor)
        if not batch:
            break
        cursor = batch[-1].pk
        batch, skipped = _skip_since_planned(campaign, batch, run.clock())
        run.result.skipped += skipped
        if not batch:
            continue
        run.open()
        try:
            for delivery in batch:
                if run.out_of_time:
                    break
                if marks is None:
                    run.send(delivery, partial(_claim_now, delivery.pk, campaign.expires_after_days), reminder=False)
                else:
                    run.send_behind(delivery, marks)
        finally:
            run.close()


def deliveries_send_pending(
    *, campaign_id: int, now: datetime | None = None, budget_seconds: float | None = None
) -> SendResult:
    """Send a campaign's due pending deliveries, batch by batch, until none are left or the run's time is
    up. ``now`` fixes the clock (tests); otherwise it is read per email."""
    clock = (lambda: now) if now else timezone.now
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.ACTIVE:
        return SendResult()
    with _exclusive(_SEND_LOCK, campaign.pk) as acquired:
        if not acquired:
            return SendResult(busy=True)
        run = _Run(emails=SurveyEmails(campaign), clock=clock, budget=budget_seconds or _budget_seconds())
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


# --- Reminders ---------------------------------------------------------------------------------------


def _reminders_due(campaign: Campaign, now: datetime) -> QuerySet[Delivery]:
    """Sent, not answered, not reminded, link still valid, the person still reachable."""
    return (
        Delivery.objects.filter(
            campaign=campaign,
            status=DeliveryStatus.SENT,
            reminded_at__isnull=True,
            sent_at__lte=now - timedelta(days=campaign.reminder_after_days),
            response__isnull=True,
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(Q(contact__isnull=True) | Q(contact__opted_out_at__isnull=True, contact__bounced_at__isnull=True))
        .filter(Q(employee__isnull=True) | Q(employee__is_active=True))
        .filter(Q(recipient__isnull=True) | Q(recipient__active=True))
    )


def reminders_send_due(*, now: datetime | None = None, budget_seconds: float | None = None) -> SendResult:
    """One reminder to each person who has not answered ``reminder_after_days`` after the survey went out
    (0 days: the campaign sends no reminders). ``reminded_at`` makes it once; the claim re-checks the
    answer and the opt-out at the last moment. A temporary refusal is tried again on the next run."""
    clock = (lambda: now) if now else timezone.now
    with _exclusive(_REMIND_LOCK, 0) as acquired:
        if not acquired:
            return SendResult(busy=True)
        budget = budget_seconds or _budget_seconds()
        result = SendResult()
        campaigns = Campaign.objects.filter(status=CampaignStatus.ACTIVE, reminder_after_days__gt=0).order_by("pk")
        for campaign in campaigns:
            run = _Run(emails=SurveyEmails(campaign), clock=clock, budget=budget)
            run.result = result
            cursor = 0
            while not run.out_of_time:
                batch = _batch(_reminders_due(campaign, clock()), after=cursor)
                if not batch:
                    break
                cursor = batch[-1].pk
                run.open()
                try:
                    for delivery in batch:
                        if run.out_of_time:
                            break
                        run.send(delivery, partial(_claim_reminder, campaign, delivery.pk), reminder=True)
                finally:
                    run.close()
            budget = max(0.0, run.deadline - time.monotonic())
            if run.out_of_time:
                result.more_due = True
                break
    logger.info("survey reminder run", extra=result.summary())
    return result


# --- What is due -------------------------------------------------------------------------------------


def campaigns_due(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """For the beat: campaigns to plan now ("now" ones never planned, "at" ones whose time came, recurring
    ones not looked at for an hour), and the other active campaigns with due pending rows, whose send
    may have died with its worker (one that is still running keeps the lock; the new one then stops)."""
    now = now or timezone.now()
    active = Campaign.objects.filter(status=CampaignStatus.ACTIVE)
    to_plan = list(
        active.filter(
            Q(mode=CampaignMode.NOW, last_run_at__isnull=True)
            | Q(mode=CampaignMode.AT, last_run_at__isnull=True, send_at__lte=now)
            | Q(mode=CampaignMode.RECURRING, last_run_at__isnull=True)
            | Q(mode=CampaignMode.RECURRING, last_run_at__lte=now - RECURRING_CHECK_EVERY)
        ).values_list("pk", flat=True)
    )
    pending = (
        Delivery.objects.filter(campaign__status=CampaignStatus.ACTIVE, status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(campaign_id__in=to_plan)
        .order_by("campaign_id")
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    return to_plan, sorted(pending)
