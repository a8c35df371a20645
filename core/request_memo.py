"""Values a request works out once, whoever asks for them during it.

``config.middleware.RequestMemoMiddleware`` opens a memo for each request and drops it when the answer is made.
Inside it, :func:`once` builds a value the first time a key is asked for and hands the same value back after;
outside any request (a Celery task, a command, a test calling a selector directly) nothing is kept and
:func:`in_request` says so, so a caller can fall back to what it does without the memo.

Only for what may be read once per request: it lives no longer than the request that built it (a person object
kept longer carries nothing from it)."""

import itertools
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_memo: ContextVar[dict | None] = ContextVar("leme_request_memo", default=None)
_scope: ContextVar[int | None] = ContextVar("leme_request_scope", default=None)
_scopes = itertools.count(1)


@contextmanager
def request_scope() -> Iterator[None]:
    token, number = _memo.set({}), _scope.set(next(_scopes))
    try:
        yield
    finally:
        _memo.reset(token)
        _scope.reset(number)


def scope_id() -> int | None:
    """A number no other request of this process shares (None outside a request): for a cache kept on an object
    that may outlive the request (a person object), to key what must not be reused by another."""
    return _scope.get()


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
