"""The tech-touch email of a playbook step: its template language, and the email built from it.

Templates
    An email step carries a subject and a text per language (``subject_pt``/``body_pt`` for pt-BR,
    ``subject_en``/``body_en`` for English); a contact gets the one in their language, or the other when
    that one is empty. A template is plain text with fields: ``{{ contact.first_name }}``, and a fallback
    for when the field is empty: ``{{ contact.first_name|default:"there" }}``. Only the fields in ``FIELDS``
    exist, and nothing else is read: a template is never given to Django's template engine, so no tag, filter
    or attribute lookup can run (a leader writes templates; the text goes to customers). Anything else in
    ``{{ }}`` or ``{% %}`` is refused when the step is saved (``template_errors``).

The email
    A text part (the template filled in) and an HTML part (the same text, escaped, in paragraphs, inside
    ``playbooks/email/step.html``); Reply-To the customer's owner CSM; ``Content-Language``; the deterministic
    Message-ID ``<playbook-{pk}@domain>`` (``core.mail.message_ids``), so a copy sent again after a crash is
    the same email; ``List-Unsubscribe`` with the one-click POST of RFC 8058, to the playbook emails' own
    opt-out (``playbook_public:unsubscribe``), which leaves surveys alone.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.mail import message_ids

# The fields a template may use, and what each is.
FIELDS = {
    "contact.first_name": gettext_lazy("the contact's first name"),
    "contact.name": gettext_lazy("the contact's full name"),
    "customer.name": gettext_lazy("the customer's name"),
    "csm.name": gettext_lazy("the owner CSM's name"),
    "csm.first_name": gettext_lazy("the owner CSM's first name"),
    "csm.email": gettext_lazy("the owner CSM's email"),
}
# {{ field }} or {{ field|default:"fallback" }}; the fallback is plain text without quotes or braces.
FIELD = re.compile(r"\{\{\s*(?P<name>[a-z_]+\.[a-z_]+)\s*(?:\|\s*default\s*:\s*\"(?P<fallback>[^\"{}]*)\"\s*)?\}\}")
ANY_TAG = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")

LANGUAGE_KEYS = {"pt-br": "pt", "en": "en"}
TEXT_KEYS = ("subject_pt", "body_pt", "subject_en", "body_en")
UNSUBSCRIBE_SALT = "leme.playbook-email.unsubscribe"


def template_errors(text: str) -> list[str]:
    """What is wrong with a template's fields, in the reader's language; empty when it is fine."""
    errors = []
    for match in FIELD.finditer(text):
        if match["name"] not in FIELDS:
            errors.append(_("There is no field “%(name)s”.") % {"name": match["name"]})
    if ANY_TAG.search(FIELD.sub("", text)):
        errors.append(
            _('Only fields such as {{ contact.first_name }} or {{ contact.first_name|default:"there" }} may be used.')
        )
    return errors


def fill(text: str, values: dict[str, str]) -> str:
    """The template with each field replaced by its value, or its fallback when the value is empty."""

    def one(match: re.Match) -> str:
        value = (values.get(match["name"]) or "").strip()
        return value or (match["fallback"] or "")

    return FIELD.sub(one, text)


def content_for(step: dict, language: str) -> tuple[str, str, str]:
    """(language, subject, body) of a step's email for a contact speaking ``language``: that language's
    text, else the other one's. An empty subject means the step has no text yet."""
    preferred = LANGUAGE_KEYS.get(language, "pt")
    for code, key in sorted(LANGUAGE_KEYS.items(), key=lambda item: item[1] != preferred):
        subject, body = (step.get(f"subject_{key}") or "").strip(), (step.get(f"body_{key}") or "").strip()
        if subject and body:
            return code, subject, body
    return language, "", ""


def has_text(step: dict) -> bool:
    return bool(content_for(step, "pt-br")[1])


@dataclass(frozen=True)
class Recipient:
    """What the fields of one email are filled with."""

    email: str
    contact_name: str
    customer_name: str
    csm_name: str
    csm_email: str

    @classmethod
    def of(cls, *, email: str, contact_name: str, customer) -> "Recipient":
        """A contact of ``customer`` (its CSM is the customer's owner, read from ``customer.owner``)."""
        owner = customer.owner
        return cls(
            email=email,
            contact_name=contact_name,
            customer_name=customer.name,
            csm_name=(owner.full_name or owner.email) if owner else "",
            csm_email=owner.email if owner else "",
        )

    def values(self) -> dict[str, str]:
        return {
            "contact.first_name": self.contact_name.split(" ")[0] if self.contact_name else "",
            "contact.name": self.contact_name,
            "customer.name": self.customer_name,
            "csm.name": self.csm_name,
            "csm.first_name": self.csm_name.split(" ")[0] if self.csm_name else "",
            "csm.email": self.csm_email,
        }


def unsubscribe_token(email_id: int) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(email_id))


def email_id_from_token(token: str) -> int | None:
    try:
        value = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def unsubscribe_url(email_id: int) -> str:
    return settings.SITE_URL + reverse("playbook_public:unsubscribe", args=[unsubscribe_token(email_id)])


def message_id(email_id: int) -> str:
    """The same Message-ID every time this email is sent: ``<playbook-{pk}@domain>``."""
    return message_ids.message_id(f"playbook-{email_id}")


def _content_language(language: str) -> str:
    head, _sep, tail = language.partition("-")
    return f"{head}-{tail.upper()}" if tail else head


def _paragraphs(text: str) -> list[str]:
    """The text's paragraphs, escaped, with their line breaks kept."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if block.strip()]
    return ["<br>".join(escape(line) for line in block.split("\n")) for block in blocks]


def build(
    *,
    step: dict,
    language: str,
    recipient: Recipient,
    email_id: int | None,
    test: bool = False,
) -> EmailMultiAlternatives:
    """The email of a step for one recipient. ``email_id`` empty (a test send to oneself): no Message-ID of
    ours, and no unsubscribe link."""
    language, subject, body = content_for(step, language)
    values = recipient.values()
    subject = " ".join(fill(subject, values).split())
    text = fill(body, values)
    headers = {"Content-Language": _content_language(language)}
    unsubscribe = ""
    if email_id is not None:
        unsubscribe = unsubscribe_url(email_id)
        subject_line = quote(f"unsubscribe {unsubscribe_token(email_id)}")
        mailto = f"mailto:{settings.LEME_UNSUBSCRIBE_MAILTO}?subject={subject_line}"
        headers["Message-ID"] = message_id(email_id)
        headers["List-Unsubscribe"] = f"<{unsubscribe}>, <{mailto}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    with translation.override(language):
        if test:
            subject = _("[Test] %(subject)s") % {"subject": subject}
        footer = _("Don't want these emails? Unsubscribe: %(url)s") % {"url": unsubscribe} if unsubscribe else ""
        html = render_to_string(
            "playbooks/email/step.html",
            {"language": language, "paragraphs": _paragraphs(text), "unsubscribe_url": unsubscribe},
        )
    message = EmailMultiAlternatives(
        subject=subject,
        body=f"{text}\n\n-- \n{footer}\n" if footer else f"{text}\n",
        to=[recipient.email],
        reply_to=[recipient.csm_email] if recipient.csm_email else None,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message
