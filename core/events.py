"""The event bus: how a lower app makes a higher one act without knowing it.

A service announces what happened with :func:`publish`; an app above subscribes a function with
:func:`subscriber` (from its ``AppConfig.ready()``). Each subscriber runs in its own Celery task, queued
once the publishing transaction commits, so it never acts on something that was rolled back, and a
failing subscriber is retried under the worker's rules (backoff, a bounded number of tries, acknowledged
only when done) instead of being lost with the web request. Subscribers must therefore be safe to run
twice; creating work through ``task_create`` with an ``origin_key`` is the usual way.

Events are small frozen dataclasses holding ids and the facts a subscriber needs, never model
instances: they travel as JSON. Each app declares its own in its ``events.py``; docs/events.md lists them
all with who announces and who listens.
"""

import dataclasses
import logging
import types
import typing
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial
from typing import Any, ClassVar, TypeVar

from celery import shared_task
from django.conf import settings
from django.db import transaction

from core import jobs

logger = logging.getLogger(__name__)

# How a subscriber's task retries when it raises: exponential backoff from 2 s up to 10 minutes, with
# jitter so a burst of failures does not come back at once, for about an hour in all.
RETRY_OPTIONS: dict[str, Any] = {
    "autoretry_for": (Exception,),
    "retry_backoff": 2,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 10,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """The base of every domain event. Fields are ints, strings, booleans, dates, datetimes, ``None``
    or tuples of those, so an event survives the trip through the broker unchanged."""

    type_name: ClassVar[str]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_name = f"{cls.__module__}.{cls.__qualname__}"
        _types[cls.type_name] = cls


E = TypeVar("E", bound=Event)
_types: dict[str, type[Event]] = {}
_subscribers: dict[type[Event], list[Any]] = defaultdict(list)
_recorders: list[list[Event]] = []


def event_types() -> dict[str, type[Event]]:
    """Every event type declared so far, by name (for the documentation check)."""
    return dict(_types)


def encode(event: Event) -> dict[str, Any]:
    payload = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, date):  # datetime is a date too
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        payload[f.name] = value
    return payload


def _parse(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [h for h in typing.get_args(hint) if h is not type(None)]
        return _parse(options[0], value) if len(options) == 1 else value
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if typing.get_origin(hint) is tuple:
        inner = typing.get_args(hint)[0] if typing.get_args(hint) else Any
        return tuple(_parse(inner, v) for v in value)
    return value


def decode(name: str, payload: dict[str, Any]) -> Event:
    cls = _types[name]
    hints = typing.get_type_hints(cls)
    return cls(**{key: _parse(hints[key], value) for key, value in payload.items()})


def subscriber(*event_types: type[Event], **task_options) -> Callable[[Callable[[E], Any]], Callable[[E], Any]]:
    """Subscribe the decorated function to ``event_types``. It runs in a Celery task named after it
    (``<module>.<function>``), queued after commit and retried by :data:`RETRY_OPTIONS` (overridable per
    subscriber). The function itself is returned unchanged, so tests can call it directly; the task is
    its ``task`` attribute."""

    def decorate(handler: Callable[[E], Any]) -> Callable[[E], Any]:
        @shared_task(name=f"{handler.__module__}.{handler.__name__}", **{**RETRY_OPTIONS, **task_options})
        def run(event_name: str, payload: dict[str, Any]) -> Any:
            return handler(decode(event_name, payload))

        for event_type in event_types:
            if not any(t.name == run.name for t in _subscribers[event_type]):
                _subscribers[event_type].append(run)
        handler.task = run  # type: ignore[attr-defined]
        return handler

    return decorate


def subscribers_of(event_type: type[Event]) -> list[str]:
    """The task names subscribed to ``event_type``."""
    return [task.name for task in _subscribers[event_type]]


def publish(event: Event) -> None:
    """Announce ``event``: each subscriber's task is queued once the current transaction commits (at once
    outside a transaction). A broker that cannot be reached puts the job in the outbox (``core.jobs``) and
    does not undo or fail the committed write; when tasks run in-process (the embedded default and the
    tests) a subscriber's error surfaces instead of being logged away."""
    payload = encode(event)
    robust = not settings.CELERY_TASK_ALWAYS_EAGER
    for recorder in _recorders:
        transaction.on_commit(partial(recorder.append, event))
    for task in list(_subscribers[type(event)]):
        transaction.on_commit(partial(_enqueue, task, event.type_name, payload), robust=robust)


def _enqueue(task, event_name: str, payload: dict[str, Any]) -> None:
    logger.debug("event delivered", extra={"event": event_name, "subscriber": task.name})
    # A broker that cannot be reached leaves the subscriber's job in the outbox (core.jobs), never lost.
    jobs.queue(task, event_name, payload, notify=False)


@contextmanager
def recorded() -> Iterator[list[Event]]:
    """Collect, in order, the events published inside the block as their transactions commit: what a
    test, or a command that reports what it did, can check was announced (subscribers still run)."""
    events: list[Event] = []
    _recorders.append(events)
    try:
        yield events
    finally:
        _recorders.remove(events)
