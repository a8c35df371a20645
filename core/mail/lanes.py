"""Several SMTP connections at once, driven in turn by the sender's own thread ("lanes").

On one connection each email waits for the server's answers to MAIL, RCPT, DATA and the message (four round
trips) before the next one starts. With ``count`` connections the sender takes up to ``count`` emails at a
time, one a connection, and steps through their exchanges together (``core.mail.smtp.prebuilt_exchange``):
it writes MAIL on every connection, then reads the first connection's answer and writes its RCPT, the second's,
and so on, so the server answers every connection while the sender waits for one, and the sender builds the
next emails while nothing is waiting. No threads: threads cost more in switching the interpreter's lock
between them than the exchange itself on a busy machine (measured: see bench/README.md, "Survey emails").

Each lane is a ``core.mail.smtp.SmtpRun`` of its own — its connection, its reconnects — sharing the run's pace
(each email waits for its slot of ``core.mail.pacing`` before its first command goes out, so the rate limit
holds for every connection together). What the sender hands over (``submit``) is an ``item`` (its row) and
the message bytes with their envelope recipient, or a Django message for what only Django's own path can send.
When the server has said "250" to an email, ``accepted(item, at)`` hands its "sent" mark on
(``core.mail.marks``); ``submit`` and ``drain`` return the outcomes (``Outcome``), refusals included, for the
sender to record.

Every email started is finished before an error is raised: a dropped connection that cannot be replaced, a
refused sender, or an ``accepted`` that raises (marks that cannot be written) ends the turn, and then is
raised; the emails not started stay unsent (their rows stay pending). Each connection carries at most
``per_connection`` emails before its lane opens a fresh one, as a run's batch does on a single connection.

The window of "Exactly once" (``surveys.dispatch``) is unchanged per email — the server's "250", then the mark
handed over and committed — but a worker killed mid-send may have up to ``count`` emails in it at once."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.mail import EmailMessage

from core.mail.pacing import Pacer, SharedPacer
from core.mail.smtp import SmtpRun, prebuilt_exchange, smtp_send


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


class _Lane:
    def __init__(self, run: SmtpRun) -> None:
        self.run = run
        self.carried = 0  # emails on its current connection


class SmtpLanes:
    """``count`` SMTP connections, sending in turn what ``submit`` hands over. Use it as a context manager or
    ``close`` it: leaving it closes the connections (what was handed over and not yet sent is not sent)."""

    def __init__(
        self,
        *,
        count: int,
        pacer: Pacer | SharedPacer,
        clock: Callable[[], datetime],
        accepted: Callable[[Any, datetime], None],
        per_connection: int,
    ) -> None:
        self.pacer = pacer
        self.clock = clock
        self.accepted = accepted
        self.per_connection = max(1, per_connection)
        self._waiting: list[_Job] = []
        self._lanes: list[_Lane] = []
        try:
            for _ in range(max(1, count)):  # a server that cannot be reached raises here, at once
                lane = _Lane(SmtpRun(pacer=pacer, budget=float("inf")))
                self._lanes.append(lane)
                lane.run.open()
        except BaseException:
            self.close()
            raise

    @property
    def raw(self) -> bool:
        """Whether the lanes take message bytes (Django's SMTP backend) rather than Django messages."""
        return self._lanes[0].run.raw

    def __enter__(self) -> "SmtpLanes":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def submit(
        self, item: Any, raw: tuple[str, bytes] | None, message: Callable[[], EmailMessage] | None = None
    ) -> list[Outcome]:
        """Hand over one email (``raw``: (envelope recipient, bytes); else ``message()`` builds a Django message).
        Once there is one for every connection they are sent together; returns the outcomes of those sent."""
        self._waiting.append(_Job(item, raw, message))
        return self._turn() if len(self._waiting) >= len(self._lanes) else []

    def drain(self) -> list[Outcome]:
        """Send what was handed over and not yet sent; returns their outcomes."""
        return self._turn() if self._waiting else []

    def close(self) -> None:
        self._waiting = []
        for lane in self._lanes:
            try:
                lane.run.close()
            except Exception:  # noqa: S112 - a connection that may be gone already; close the others
                continue

    def _turn(self) -> list[Outcome]:
        jobs, self._waiting = self._waiting, []
        outcomes: list[Outcome] = []
        errors: list[BaseException] = []
        active: list[tuple[_Lane, _Job, datetime, Iterator[None]]] = []
        for lane, job in zip(self._lanes, jobs, strict=False):
            if errors:
                break  # not started: its row stays as it was
            try:
                self._renew(lane)
            except BaseException as error:
                errors.append(error)
                break
            self.pacer.wait()
            at = self.clock()
            if job.raw is None or not lane.run.raw:
                # Django's own path, on its own: the rare email the prebuilt bytes cannot carry.
                outcome, error = lane.run.hand_over(lambda: None, job.message)
                self._finish(lane, job, at, outcome, error, outcomes, errors)
                continue
            to, payload = job.raw
            exchange = prebuilt_exchange(lane.run.smtp.connection, lane.run.mail_from, to, payload)
            entry = (lane, job, at, exchange)
            if self._step(entry, outcomes, errors):  # its MAIL FROM goes out now, at its slot of the pace
                active.append(entry)
        while active:
            active = [entry for entry in active if self._step(entry, outcomes, errors)]
        if errors:
            raise errors[0]
        return outcomes

    def _step(self, entry, outcomes: list[Outcome], errors: list[BaseException]) -> bool:
        """One step of an email's exchange; False once it is finished (its outcome is in ``outcomes``)."""
        lane, job, at, exchange = entry
        try:
            outcome, error = smtp_send(lambda: next(exchange))
        except StopIteration:
            outcome, error = "sent", None
        except BaseException as refused:  # a refused sender: the configuration's fault; the others finish first
            errors.append(refused)
            return False
        else:
            if outcome == "sent":
                return True  # this step went through; more to come
        self._finish(lane, job, at, outcome, error, outcomes, errors)
        return False

    def _finish(self, lane: _Lane, job: _Job, at: datetime, outcome, error, outcomes, errors) -> None:
        outcomes.append(Outcome(job.item, outcome, error, at))
        try:
            if outcome == "sent":
                self.accepted(job.item, at)
            drops = lane.run.drops
            lane.run.settle(outcome, error)  # a lost connection is replaced here
            lane.carried = 0 if lane.run.drops > drops else lane.carried + 1
        except BaseException as failed:
            errors.append(failed)

    def _renew(self, lane: _Lane) -> None:
        if lane.carried >= self.per_connection:
            lane.run.close()
            lane.run.open()
            lane.carried = 0
