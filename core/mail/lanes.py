"""Several SMTP connections at once, one thread each ("lanes").

On one connection each email waits for the server's answers to MAIL, RCPT, DATA and the message (four round
trips) before the next one starts, and the sender's own work (building the next email) waits for them too. A
sender that has its emails ready can hand them to ``count`` connections, each in its own thread: while one
waits for the server, another sends and the sender builds the next. Each lane is a ``core.mail.smtp.SmtpRun``
of its own — its connection, its reconnects — sharing the run's pace (``core.mail.pacing``, a slot per email
whoever takes it) and, with it, the rate limit.

What the sender hands over is an ``item`` (its row), the message bytes (or a Django message for a backend
that needs one) and its envelope recipient. A lane sends it and, the moment the server has said "250",
calls ``accepted(item, at)`` (which hands the row's "sent" mark to ``core.mail.marks``), then reports the
outcome; the sender reads the outcomes (``Outcome``) from ``submit`` and ``drain`` in its own thread and
records refusals there, on its own database connection. Lanes never touch the database.

A lane whose connection is lost reconnects, as a ``SmtpRun`` does; one that cannot, a refused sender, or an
``accepted`` that raises (marks that cannot be written) stops every lane: the emails still queued are not
sent (their rows stay pending) and the error is raised in the sender's thread by the next ``submit`` or
``drain``. Each connection carries at most ``per_connection`` emails before the lane opens a fresh one, as a
run's batch does on a single connection.

The window of "Exactly once" (``surveys.dispatch``) is unchanged per email — the server's "250", then the
mark handed over and committed — but a worker killed mid-send may have up to ``count`` emails in it at once,
one per lane."""

import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.mail import EmailMessage

from core.mail.pacing import Pacer, SharedPacer
from core.mail.smtp import SmtpRun

# How long a blocked ``submit`` or ``drain`` waits before looking again whether a lane failed.
_POLL_SECONDS = 0.2
# The outcome of an email a lane did not send (a lane failed, or the sender closed): its row stays as it was.
_UNSENT = "unsent"


@dataclass(frozen=True)
class Outcome:
    """What became of one email: ``core.mail.smtp.smtp_send``'s outcome and error, and when it was sent."""

    item: Any
    outcome: str
    error: Exception | None
    at: datetime


@dataclass(frozen=True)
class _Job:
    item: Any
    raw: tuple[str, bytes] | None
    message: Callable[[], EmailMessage] | None


class SmtpLanes:
    """``count`` SMTP connections, each sending in its own thread what ``submit`` hands over. Use it as a
    context manager: leaving it stops the threads and closes the connections (what is queued is not sent)."""

    def __init__(
        self,
        *,
        count: int,
        pacer: Pacer | SharedPacer,
        clock: Callable[[], datetime],
        accepted: Callable[[Any, datetime], None],
        per_connection: int,
    ) -> None:
        self.count = max(1, count)
        self.clock = clock
        self.accepted = accepted
        self.per_connection = max(1, per_connection)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._outcomes: queue.SimpleQueue = queue.SimpleQueue()
        # Emails handed over whose outcome the sender has not read yet (the sender's thread alone counts them):
        # at most one a lane and as many waiting, so the sender never runs far ahead of what is sent.
        self._in_flight = 0
        self._window = 2 * self.count
        self._error: BaseException | None = None
        self._runs: list[SmtpRun] = []
        self._threads: list[threading.Thread] = []
        try:
            # Opened here, in the sender's thread: a server that cannot be reached raises at once, as a single
            # connection's ``open`` does.
            for _ in range(self.count):
                run = SmtpRun(pacer=pacer, budget=float("inf"))
                self._runs.append(run)
                run.open()
        except BaseException:
            self._close_runs()
            raise
        for n, run in enumerate(self._runs):
            thread = threading.Thread(target=self._lane, args=(run,), name=f"smtp-lane-{n}", daemon=True)
            self._threads.append(thread)
            thread.start()

    @property
    def raw(self) -> bool:
        """Whether the lanes take message bytes (Django's SMTP backend) rather than Django messages."""
        return self._runs[0].raw

    def __enter__(self) -> "SmtpLanes":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def submit(
        self, item: Any, raw: tuple[str, bytes] | None, message: Callable[[], EmailMessage] | None = None
    ) -> list[Outcome]:
        """Queue one email (``raw``: (envelope recipient, bytes); else ``message()`` builds a Django message)
        and return the outcomes reported since the last call. Waits while every lane is busy and as many
        emails are waiting."""
        self._raise_if_failed()
        outcomes = self._collect()
        while self._in_flight >= self._window:
            outcomes.append(self._next_outcome())
        self._jobs.put(_Job(item, raw, message))
        self._in_flight += 1
        return [done for done in outcomes if done.outcome != _UNSENT]

    def drain(self) -> list[Outcome]:
        """Wait until every email handed over so far has its outcome, and return the outcomes not yet read."""
        outcomes = self._collect()
        while self._in_flight:
            outcomes.append(self._next_outcome())
        self._raise_if_failed()
        return [done for done in outcomes if done.outcome != _UNSENT]

    def close(self) -> None:
        if self._error is None:
            self._error = _Closed()
        # Every lane now drops what is queued; one sentinel each ends it.
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []
        self._close_runs()

    def _close_runs(self) -> None:
        for run in self._runs:
            with contextlib.suppress(Exception):  # a connection that may be gone already
                run.close()

    def _next_outcome(self) -> Outcome:
        while True:
            self._raise_if_failed()
            try:
                done = self._outcomes.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            self._in_flight -= 1
            return done

    def _collect(self) -> list[Outcome]:
        outcomes = []
        while True:
            try:
                outcomes.append(self._outcomes.get_nowait())
            except queue.Empty:
                return outcomes
            self._in_flight -= 1

    def _raise_if_failed(self) -> None:
        if self._error is not None and not isinstance(self._error, _Closed):
            raise self._error

    def _lane(self, run: SmtpRun) -> None:
        sent_here = 0  # emails on this lane's current connection
        while (job := self._jobs.get()) is not None:
            # Every job gets exactly one outcome, "unsent" when a lane failed or the sender closed.
            reported = False
            try:
                if self._error is None:
                    sent_here, reported = self._send(run, job, sent_here)
            except BaseException as error:
                if self._error is None:
                    self._error = error
            finally:
                if not reported:
                    self._outcomes.put(Outcome(job.item, _UNSENT, None, self.clock()))

    def _send(self, run: SmtpRun, job: _Job, sent_here: int) -> tuple[int, bool]:
        if sent_here >= self.per_connection:
            run.close()
            run.open()
            sent_here = 0
        run.pacer.wait()
        at = self.clock()
        outcome, error = run.hand_over(lambda: job.raw, job.message or _no_message)
        if outcome == "sent":
            self.accepted(job.item, at)
        self._outcomes.put(Outcome(job.item, outcome, error, at))
        drops = run.drops
        try:
            run.settle(outcome, error)  # a lost connection is replaced here
        except BaseException as failed:
            if self._error is None:
                self._error = failed
        return (0 if run.drops > drops else sent_here + 1), True


class _Closed(Exception):
    """The sender closed the lanes: what is still queued is dropped, and nothing is raised."""


def _no_message() -> EmailMessage:
    raise RuntimeError("a lane of a non-SMTP backend was handed bytes without a message")
