"""Deterministic Message-IDs: the same email gets the same Message-ID every time it is sent, so a copy sent
again after a crash is, for mail systems that de-duplicate on Message-ID, the same message."""

from email.utils import parseaddr
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=4)
def domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "leme"


def message_id(local_part: str) -> str:
    """``<local_part@domain of DEFAULT_FROM_EMAIL>``; ``local_part`` must name the email for good."""
    return f"<{local_part}@{domain_of(settings.DEFAULT_FROM_EMAIL)}>"
