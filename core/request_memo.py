"""Values a request works out once, whoever asks for them during it.

``config.middleware.RequestMemoMiddleware`` opens a memo for each request and drops it when the answer is made.
Inside it, :func:`once` builds a value the first time a key is asked for and hands the same value back after;
outside any request (a Celery task, a command, a test calling a selector directly) nothing is kept and
:func:`in_request` says so, so a caller can fall back to what it does without the memo.

Only for what may be read once per request: it lives no longer than the request that built it (a person object
kept longer carries nothing from it)."""

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_memo: ContextVar[dict | None] = ContextVar("leme_request_memo", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def in_request() -> bool:
    return _memo.get() is not None


def once(key: Hashable, build: Callable[[], T]) -> T:
    """``build()``, once per request and ``key``; outside a request, every time."""
    memo = _memo.get()
    if memo is None:
        return build()
    if key not in memo:
        memo[key] = build()
    return memo[key]
