"""The pace of a bulk send: at most N emails a second, without bursts after a pause.

An email provider limits the account, not one campaign or one worker, so the pace is one for every sender
sharing it: each email takes the next slot of a pace kept in Redis (``SharedPacer``). Without Redis (the
embedded run) a process keeps its own pace (``Pacer``)."""

import logging
import threading
import time

import redis

logger = logging.getLogger(__name__)


class Pacer:
    """At most ``per_second`` emails a second from this process (0: no limit), without bursts after a
    pause. Used when there is no Redis to share the pace with (the embedded run). Several threads may share
    it: each takes the next slot under a lock, then waits for it."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1 / per_second if per_second > 0 else 0.0
        self.next_at = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(self.next_at, now)
            self.next_at = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


# One slot per email on Redis's clock: the next free slot moves on by one interval per email, and never
# lags behind "now" (a pause earns no burst). Returns how long the caller waits for its slot, and the slot.
RESERVE_SLOT = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now_us then slot = now_us end
redis.call('SET', KEYS[1], slot + interval, 'PX', math.floor((slot + interval - now_us) / 1000) + 1000)
return {slot - now_us, slot}
"""


class SharedPacer:
    """A pace shared by every worker that uses the same Redis ``key``: each email takes the next slot from
    Redis, ``1 / per_second`` apart. Should Redis fail, this worker keeps its own pace and says so in the
    log. Safe to share between a sender's threads (the Redis client takes a pooled connection per command)."""

    def __init__(self, per_second: float, *, url: str, key: str) -> None:
        self.interval_us = round(1_000_000 / per_second)
        self.key = key
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(RESERVE_SLOT)
        self._fallback = Pacer(per_second)

    def reserve(self) -> tuple[float, int]:
        """(seconds to wait, the slot in microseconds of Redis's clock)."""
        wait_us, slot = self._script(keys=[self.key], args=[self.interval_us])
        return wait_us / 1_000_000, slot

    def wait(self) -> None:
        try:
            delay, _slot = self.reserve()
        except redis.RedisError:
            logger.warning("email send pace kept by this worker alone: Redis is unreachable", extra={"key": self.key})
            self._fallback.wait()
            return
        if delay > 0:
            time.sleep(delay)


def pacer_for(per_second: float, *, broker_url: str | None, key: str) -> Pacer | SharedPacer:
    """The pace in Redis when there is a limit and the broker is Redis; this process's own otherwise."""
    url = broker_url or ""
    if per_second > 0 and url.startswith(("redis://", "rediss://", "unix://")):
        return SharedPacer(per_second, url=url, key=key)
    return Pacer(per_second)
