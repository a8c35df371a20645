"""One worker at a time: PostgreSQL session advisory locks."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection as db_connection


@contextmanager
def exclusive(lock_class: int, object_id: int) -> Iterator[bool]:
    """A PostgreSQL session advisory lock on (``lock_class``, ``object_id``): True if this process got it. It
    is released on exit, or by the database when the worker's connection dies. Other databases (the embedded
    SQLite run, one process) always get it; callers keep their own per-row guarantees either way."""
    if db_connection.vendor != "postgresql":
        yield True
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [lock_class, object_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with db_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, object_id])
