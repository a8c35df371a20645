"""Late bounces of emails that are not surveys.

Every delivery status notification (DSN) comes back to the one envelope sender and is read by
``surveys.bounces`` (the ``survey_bounce`` command, the bounce API). A report about a Message-ID that is not a
survey's is handed to the handler a higher app registered for that Message-ID's kind — ``<playbook-{pk}@…>``
is kind ``playbook`` — so surveys never import the apps whose emails they did not send. A handler takes the
report (recipient, status, diagnostic, ``message_id``, ``error``, ``permanent``) and the time, and answers
``"bounced"`` or why it changed nothing, as ``surveys.bounces`` does for its own."""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

Handler = Callable[[Any, datetime], str]

_HANDLERS: dict[str, Handler] = {}
_KIND = re.compile(r"<(?P<kind>[a-z]+)-[0-9]")


def register(kind: str, handler: Handler) -> None:
    _HANDLERS[kind] = handler


def handler_for(message_id: str) -> Handler | None:
    """The handler for the kind of email ``message_id`` names, if a higher app registered one."""
    match = _KIND.search(message_id or "")
    return _HANDLERS.get(match["kind"]) if match else None
