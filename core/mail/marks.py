""" "Sent" marks written behind the sends.

A sender that commits each email's "sent" mark before the next email waits for the disk once per email.
On PostgreSQL, when the sender is the only one for its rows (a lock says so), the marks can instead be
written by a companion thread on its own database connection: the sender hands over each accepted row and
goes on with the next email while the mark commits. Each write takes every mark waiting at that moment (one
statement, one commit, one disk flush for all of them), so the marks keep up with any sending speed, never
more than one commit behind. A worker killed in between loses the marks still queued — the same window as a
commit that never landed, as long as one commit. A write that fails stops the run: ``add`` and ``flush``
raise ``MarksFailed``.

A sender subclasses ``SentMarks`` with the ``write`` of its own rows."""

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime

from django.db import connection as db_connection

logger = logging.getLogger(__name__)

Mark = tuple[int, datetime]  # (row id, when the server accepted its email)


class MarksFailed(RuntimeError):
    """The companion connection could not record "sent" marks: the run stops sending at once."""


@dataclass(frozen=True)
class _Flush:
    done: threading.Event


def can_mark_behind() -> bool:
    """Whether marks can be written from a companion connection: PostgreSQL (the caller's lock making its run
    the only sender), and not inside a transaction, whose rows another connection can't see."""
    return db_connection.vendor == "postgresql" and not db_connection.in_atomic_block


class SentMarks:
    """The companion thread and its queue of marks; ``write`` records a list of marks on the thread's own
    connection (``connection``) and is the subclass's."""

    what = "sent marks"  # for the log and the error

    def __init__(self, *, thread_name: str = "sent-marks") -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=thread_name, daemon=True)
        self._thread.start()

    def write(self, connection, marks: list[Mark]) -> None:
        raise NotImplementedError

    def add(self, row_id: int, sent_at: datetime) -> None:
        self._raise_if_failed()
        self._queue.put((row_id, sent_at))

    def flush(self) -> None:
        """Wait until every mark handed over so far is committed."""
        done = threading.Event()
        self._queue.put(_Flush(done))
        while not done.wait(0.5):
            if not self._thread.is_alive():
                break
        self._raise_if_failed()

    def close(self, *, quiet: bool = False) -> None:
        """Write what is left and stop the thread; ``quiet``: a write error is only logged."""
        self._queue.put(None)
        self._thread.join()
        if quiet and self._error is not None:
            logger.error("sent marks could not be written", extra={"marks": self.what, "error": str(self._error)})
            return
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise MarksFailed(f"{self.what} could not be written: {self._error}") from self._error

    def _work(self) -> None:
        # ``django.db.connection`` resolves per thread: here it is this thread's own connection.
        try:
            while True:
                items = [self._queue.get()]
                while not self._queue.empty():
                    items.append(self._queue.get_nowait())
                marks = [item for item in items if isinstance(item, tuple)]
                if marks and self._error is None:
                    try:
                        self.write(db_connection, marks)
                    except Exception as error:  # handed to the sender, which stops
                        self._error = error
                for item in items:
                    if isinstance(item, _Flush):
                        item.done.set()
                if None in items:
                    return
        finally:
            db_connection.close()
