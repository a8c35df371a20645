"""What the services read as "now" and "today".

Services date what they do through this module instead of ``django.utils.timezone``, so a caller can run
them at another moment — the demo seeder replays two years of a portfolio step by step — without patching
anything global. The moment is held in a context variable: it follows the code that set it (a thread, a
task) and nothing else.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from django.utils import timezone

_source: ContextVar[Callable[[], datetime] | None] = ContextVar("leme_clock", default=None)


def now() -> datetime:
    """The current moment, aware; the moment set by :func:`at` inside one."""
    source = _source.get()
    return source() if source is not None else timezone.now()


def today() -> date:
    """Today in the workspace's time zone, by :func:`now`."""
    return timezone.localdate(now())


@contextmanager
def at(moment: datetime | Callable[[], datetime]) -> Iterator[None]:
    """Run the enclosed code as if it were ``moment`` (a fixed aware datetime, or a callable returning one
    each time it is asked, e.g. a clock that ticks a second per call)."""
    if isinstance(moment, datetime):
        if timezone.is_naive(moment):
            raise ValueError("clock.at needs an aware datetime")
        fixed = moment
        source: Callable[[], datetime] = lambda: fixed  # noqa: E731
    else:
        source = moment
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)
