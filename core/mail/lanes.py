"""Several SMTP connections at once, driven in turn by the sender's own thread ("lanes").

On one connection each email waits for the server's answers to MAIL, RCPT, DATA and the message (four round
trips) before the next one starts. With ``count`` connections each email starts on a free one (its MAIL FROM
written at its slot of the pace) and its exchange goes on in steps (``core.mail.smtp.prebuilt_exchange``):
while every connection is busy, the sender moves the exchange started longest ago on by one step (reads its
answer, writes the next command); once a connection is free, it builds the next email while the server works
on the others. No threads: threads cost more in handing the interpreter's lock to each other than the
exchange itself on a busy machine (measured: see bench/README.md, "Survey emails").

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
        self._lanes: list[_Lane] = []
        self._active: dict[_Lane, tuple[_Lane, _Job, datetime, Iterator[None]]] = {}  # started, in order
        self._outcomes: list[Outcome] = []
        self._errors: list[BaseException] = []
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
        """Start one email (``raw``: (envelope recipient, bytes); else ``message()`` builds a Django message) on
        a free connection, first moving the others' exchanges on until one is free; returns the outcomes of
        the emails finished meanwhile. The sender builds the next email while the server works on the others."""
        self._raise_if_failed()
        while len(self._active) >= len(self._lanes):
            self._advance()
        self._raise_if_failed()
        lane = next(lane for lane in self._lanes if lane not in self._active)
        self._start(lane, _Job(item, raw, message))
        return self._take_outcomes()

    def drain(self) -> list[Outcome]:
        """Finish every email started; returns the outcomes not yet returned."""
        while self._active:
            self._advance()
        self._raise_if_failed()
        return self._take_outcomes()

    def close(self) -> None:
        self._active = {}
        for lane in self._lanes:
            try:
                lane.run.close()
            except Exception:  # noqa: S112 - a connection that may be gone already; close the others
                continue

    def _start(self, lane: _Lane, job: _Job) -> None:
        try:
            self._renew(lane)
        except BaseException as error:
            self._errors.append(error)
            return
        self.pacer.wait()
        at = self.clock()
        if job.raw is None or not lane.run.raw:
            # Django's own path, on its own: the rare email the prebuilt bytes cannot carry.
            outcome, error = lane.run.hand_over(lambda: None, job.message)
            self._finish(lane, job, at, outcome, error, self._outcomes, self._errors)
            return
        to, payload = job.raw
        entry = (lane, job, at, prebuilt_exchange(lane.run.smtp.connection, lane.run.mail_from, to, payload))
        if self._step(entry, self._outcomes, self._errors):  # its MAIL FROM goes out now, at its slot of the pace
            self._active[lane] = entry

    def _advance(self) -> None:
        """One step of the exchange started longest ago (its answer is the likeliest to be there already)."""
        lane = next(iter(self._active))
        entry = self._active.pop(lane)
        if self._step(entry, self._outcomes, self._errors):
            self._active[lane] = entry  # to the back of the line

    def _take_outcomes(self) -> list[Outcome]:
        outcomes, self._outcomes = self._outcomes, []
        return outcomes

    def _raise_if_failed(self) -> None:
        """Every email started is finished before an error is raised."""
        if self._errors:
            while self._active:
                self._advance()
            raise self._errors[0]

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
