"""The survey email and its reminder: subject, text and HTML parts, score buttons, links, headers.

The links carry only the token (see ``surveys.tokens``): ``SITE_URL/s/<token>/?score=N`` answers,
``SITE_URL/s/<token>/unsubscribe/`` opts out (also one-click, RFC 8058). Every delivery's email has the same
Message-ID each time it is sent (``message_id``), so a copy sent again after a crash is the same email (see
"Exactly once" in ``surveys.dispatch``).
"""

from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from core.mail import message_ids
from core.mail.frames import Frame, envelope_address
from surveys import scoring, tokens
from surveys.models import Campaign, Delivery, SurveyKind

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


def message_id(delivery_id: int, *, reminder: bool = False) -> str:
    """The same Message-ID every time this delivery is sent, so a resend after a crash is the same email:
    ``<survey-{pk}@domain>``, reminders ``<survey-{pk}-reminder@domain>`` (``surveys.bounces`` reads them)."""
    return message_ids.message_id(f"survey-{delivery_id}{'-reminder' if reminder else ''}")


# --- The email ---------------------------------------------------------------------------------------

# Rendering templates and building MIME for every email would cost more than the SMTP exchange itself.
# So the templates are rendered once per language and kind of reader with these markers in place of each
# email's own values (separate markers for the plain-text and the HTML part, which escapes them), and
# for the SMTP backend the whole message is built once, by Django's own MIME code, into a byte "frame"
# (``core.mail.frames``) that each email fills in. The token marker has the token's length (43), so headers
# fold alike; the person markers carry a non-ASCII letter so both parts are framed as 8bit, whatever the
# names are.
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


@dataclass(frozen=True)
class _Layout:
    subject: str
    text: str
    html: str


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
        self._frames: dict[tuple, Frame | None] = {}

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
            if value.endswith("."):
                # "… contato de Atlas S.A." ends the sentence with the name's own dot, not "S.A..".
                text, html = text.replace(f"{_TEXT[name]}.", _TEXT[name]), html.replace(f"{_HTML[name]}.", _HTML[name])
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

    def _frame(self, key: tuple, *, contact: bool) -> Frame | None:
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
            usable = data.count(b"Content-Transfer-Encoding: 8bit") == 2 and all(
                m.encode() in data for m in (_TOKEN, _TO, _MESSAGE_ID, _DATE)
            )
            self._frames[frame_key] = Frame.split(data, markers) if usable else None
        return self._frames[frame_key]

    def raw(self, delivery: Delivery, *, reminder: bool = False) -> tuple[str, bytes] | None:
        """(envelope recipient, message bytes), exactly what Django's SMTP backend would send for
        ``message()`` but for the Date and the MIME boundary; None when only ``message()`` can do it."""
        person = _person(delivery)
        if any(name.endswith(".") for name in (person.first_name, person.customer_name, person.csm_name)):
            return None  # message() drops the sentence's own full stop after a name that ends in one
        key = self._key(delivery, person, reminder)
        frame = self._frame(key, contact=bool(delivery.contact_id))
        if frame is None:
            return None
        to = envelope_address(delivery.email)
        token = tokens.token_for(delivery.token_salt).encode()
        values = {
            _TOKEN: token,
            _TO: to.encode(),
            _REPLY_TO: envelope_address(person.csm_email).encode() if person.csm_email else b"",
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
