"""Survey link tokens.

Each delivery stores a random salt and the SHA-256 of its token; the token itself is
HMAC-SHA256(SECRET_KEY, salt), 256 bits, rebuilt by the server whenever it sends or reminds. A copy of
the database alone therefore holds no working link, and the email job needs no secret in its message.
The token names one delivery and nothing about the person.
"""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings


def new_salt() -> str:
    return secrets.token_hex(16)


def token_for(salt: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"leme.survey:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def salt_and_hash() -> tuple[str, str]:
    salt = new_salt()
    return salt, token_hash(token_for(salt))
