"""Counting requests per key in fixed windows, in the Django cache (Redis in production, so every web
process counts together; per process memory in the tests and the embedded run).

A rate is written as DRF writes its throttle rates: ``"60/minute"``, ``"10/hour"``, ``"5/15m"`` (a number
of requests per a number of seconds, minutes, hours or days). ``hit`` counts one request and says whether
it is still within the rate and, when not, how many seconds until the window ends (the ``Retry-After``).
The window is fixed rather than sliding: at most twice the rate can pass around a window's edge, which is
fine for refusing floods and guessing, and costs one atomic increment per request: in Redis one round trip (a
script that increments the count and, on the window's first request, sets its expiry), elsewhere the cache's
``add`` then ``incr``.
"""

import hashlib
import math
import re
from dataclasses import dataclass

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from core import clock

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


def parse_rate(rate: str) -> Rate:
    """``"60/minute"`` → Rate(60, 60); ``"5/15m"`` → Rate(5, 900). Raises ValueError on anything else."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"not a rate: {rate!r}")
    count, multiple, unit = match.groups()
    return Rate(limit=int(count), seconds=int(multiple or 1) * _UNIT_SECONDS[unit])


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends; 0 while allowed

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def _key(scope: str, ident: str, window: int) -> str:
    # Hashed: an identifier may be an email address or a token, which have no business in cache keys.
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"leme:rl:{scope}:{digest}:{window}"


def _window(rate: Rate) -> tuple[int, int]:
    moment = int(clock.now().timestamp())
    return moment // rate.seconds, rate.seconds - moment % rate.seconds


# INCR and, for the window's first request, EXPIRE, atomically: what add() then incr() do, in one round trip.
_REDIS_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _count(key: str, timeout: int) -> int:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # The key as the cache names it, holding a plain integer, as the cache's own incr() leaves it (get() reads it).
        full_key = backend.make_and_validate_key(key)
        return int(backend._cache.get_client(full_key, write=True).eval(_REDIS_COUNT, 1, full_key, timeout))
    # add() is a no-op when the key exists, so concurrent first requests do not reset each other's count.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=timeout)
        return 1


def hit(scope: str, ident: str, rate: str | Rate) -> Verdict:
    """Count one request of ``ident`` under ``scope``; allowed while the window's count is within the rate."""
    rate = parse_rate(rate) if isinstance(rate, str) else rate
    window, remaining = _window(rate)
    count = _count(_key(scope, ident, window), rate.seconds + 1)
    allowed = count <= rate.limit
    return Verdict(allowed=allowed, count=count, retry_after=0 if allowed else remaining)


def peek(scope: str, ident: str, rate: str | Rate) -> Verdict:
    """Whether ``ident`` is already over the rate, without counting a request."""
    rate = parse_rate(rate) if isinstance(rate, str) else rate
    window, remaining = _window(rate)
    count = cache.get(_key(scope, ident, window), 0)
    allowed = count < rate.limit
    return Verdict(allowed=allowed, count=count, retry_after=0 if allowed else remaining)
