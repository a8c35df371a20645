"""Messages built once and filled in per email.

Rendering templates and building MIME for every email of a bulk send would cost more than the SMTP exchange
itself. So a sender builds the message once, with markers in place of each email's own values, as the bytes
Django's SMTP backend would send, and splits it at the markers into a ``Frame``; each email is then the
frame filled in with its values."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.mail.message import sanitize_address


@dataclass(frozen=True)
class Frame:
    """A whole message as bytes, split at the markers: ``pieces`` with ``slots[i]`` between piece i and
    piece i + 1."""

    pieces: tuple[bytes, ...]
    slots: tuple[str, ...]

    @classmethod
    def split(cls, data: bytes, markers: list[str]) -> "Frame":
        pattern = re.compile(b"|".join(re.escape(m.encode()) for m in markers))
        return cls(pieces=tuple(pattern.split(data)), slots=tuple(m.decode() for m in pattern.findall(data)))

    def fill(self, values: dict[str, bytes]) -> bytes:
        out = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            out.append(values[slot])
            out.append(piece)
        return b"".join(out)


def plain_address(email: str) -> bool:
    """An ASCII address with nothing to parse or quote (no name, no brackets, no spaces)."""
    return email.isascii() and not any(c in email for c in ' ,"<>()\r\n')


def envelope_address(email: str) -> str:
    """The address as Django's SMTP backend would write it; plain ASCII addresses need no work."""
    if plain_address(email):
        return email
    return sanitize_address(email, settings.DEFAULT_CHARSET)
