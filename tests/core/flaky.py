"""An event and a subscriber that fails its first tries, for proving that the bus retries a failing
subscriber in a real worker. Imported by the test and, through LEME_TEST_CELERY_IMPORTS, by its worker."""

from dataclasses import dataclass

import redis
from django.conf import settings

from core.events import Event, subscriber

FAILURES = 2


@dataclass(frozen=True, kw_only=True)
class FlakyHappened(Event):
    key: str


def store() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


# Retried at once rather than after the production backoff, so the test waits seconds, not minutes.
@subscriber(FlakyHappened, retry_backoff=False, default_retry_delay=0.2)
def fails_twice_then_records(event: FlakyHappened) -> None:
    attempts = store().incr(f"{event.key}:attempts")
    if attempts <= FAILURES:
        raise ConnectionError("the service this subscriber calls is down")
    store().set(f"{event.key}:done", attempts)
