"""Queueing background jobs from a web request without ever failing it after its write committed.

``queue_on_commit(task, *args)`` queues a Celery task once the current transaction commits (at once outside
one). When the broker cannot be reached the job is not lost and the request does not fail: it goes to the
outbox, a table an app above keeps (``core`` has no models: ``accounts`` registers its store with
:func:`set_outbox` when it starts), and a beat job queues it again once the broker is back
(``accounts.outbox``). The tasks queued this way are safe to run twice, as every task is, so a job queued
again after a doubtful first attempt does no harm.

Whoever serves the request may learn that a job was put off with :func:`watch` (``config.middleware`` tells
the person it will go out in a moment). A view that says so in its own words (an invitation "will be sent", not
"sent") asks :func:`put_off_here` and, having told the person, the middleware adds nothing. Jobs whose being
queued must not show (a password reset, which must not tell whether the address has an account) are queued with
``notify=False``.

When tasks run in-process (Celery's ``task_always_eager``: the embedded run and the tests) a task's error
surfaces instead: there is no broker to miss.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)

Store = Callable[[str, tuple, dict], None]
_store: list[Store] = []


@dataclass
class Watch:
    """The jobs put off in the outbox while it was watched (their task names), and those the person may hear
    about (``notify``)."""

    deferred: list[str] = field(default_factory=list)
    notify: bool = False
    told: bool = False


_watches: ContextVar[tuple[Watch, ...]] = ContextVar("leme_job_watches", default=())


def set_outbox(store: Store) -> None:
    """Where a job that cannot be queued is kept: ``store(task_name, args, kwargs)`` (one store)."""
    _store[:] = [store]


@contextmanager
def watch() -> Iterator[Watch]:
    """Collect the jobs put off (broker unreachable) while the block runs."""
    seen = Watch()
    token = _watches.set((*_watches.get(), seen))
    try:
        yield seen
    finally:
        _watches.reset(token)


def put_off_here() -> bool:
    """Whether a job queued so far under the innermost watch went to the outbox. Asking means the caller tells
    the person about it: the watch is marked ``told``, so nobody says it twice."""
    watches = _watches.get()
    if not watches or not watches[-1].deferred:
        return False
    watches[-1].told = True
    return True


REPR_MAX = 1024  # as Celery's own: what the message's headers show of its arguments


def _shown(value: tuple | dict) -> str:
    """The arguments as a job's message shows them (the worker's logs, monitoring): their ``repr``, cut at
    :data:`REPR_MAX`. Jobs carry ids, names and dates, whose ``repr`` is already short and safe; Celery's own
    ``saferepr``, made for anything, cost as much as the rest of queueing the job."""
    text = repr(value)
    return text if len(text) <= REPR_MAX else f"{text[: REPR_MAX - 3]}..."


def queue(task, *args, notify: bool = True, **kwargs) -> bool:
    """Queue ``task`` now. True when the broker took it; False when it went to the outbox instead (or, with
    no outbox to keep it, was logged as lost). Never raises for an unreachable broker."""
    if task.app.conf.task_always_eager:
        task.apply_async(args, kwargs)
        return True
    try:
        task.apply_async(args, kwargs, argsrepr=_shown(args), kwargsrepr=_shown(kwargs))
        return True
    except Exception:
        logger.warning(
            "job not queued: the broker is unreachable; kept in the outbox", extra={"task": task.name}, exc_info=True
        )
    try:
        if not _store:
            raise RuntimeError("no outbox is registered")
        _store[0](task.name, tuple(args), dict(kwargs))
    except Exception:
        logger.exception("job lost: neither the broker nor the outbox took it", extra={"task": task.name})
    for seen in _watches.get():
        seen.deferred.append(task.name)
        seen.notify = seen.notify or notify
    return False


def queue_on_commit(task, *args, notify: bool = True, **kwargs) -> None:
    """:func:`queue` once the current transaction commits: a rolled-back write queues nothing."""
    transaction.on_commit(partial(queue, task, *args, notify=notify, **kwargs))
