"""Record the late bounces of survey emails: ``manage.py survey_bounce < message`` (a mail server's pipe
alias) or ``manage.py survey_bounce a.eml b.eml``. See surveys.bounces for what is recorded and how to
wire the bounce address.

One line per message on standard output. The exit code is 0 whatever the messages were, so a mail
server never bounces a bounce, and 75 (EX_TEMPFAIL, "try again later" to the mail server) while the
database cannot be reached; messages before that one are recorded, each in its own transaction.
"""

import sys
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError

from surveys.bounces import BounceOutcome, apply_bounces, parse_dsn

EX_TEMPFAIL = 75


def summary(outcome: BounceOutcome) -> str:
    ignored = sum(outcome.ignored.values())
    reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(outcome.ignored.items()))
    return f"{outcome.bounced} bounced, {ignored} ignored" + (f" ({reasons})" if reasons else "")


class Command(BaseCommand):
    help = "Record the late bounces (RFC 3464 delivery status notifications) of survey emails."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "files", nargs="*", help="Raw messages (.eml); without any, one message is read from standard input."
        )

    def handle(self, *args, files: list[str], **options) -> None:
        sources: list[tuple[str, Callable[[], bytes]]] = [(name, Path(name).read_bytes) for name in files]
        for name, read in sources or [("stdin", sys.stdin.buffer.read)]:
            try:
                raw = read()
            except OSError as error:
                raise CommandError(f"{name}: {error}") from error
            self.stdout.write(f"{name}: {self.record(raw)}")

    def record(self, raw: bytes) -> str:
        reports = parse_dsn(raw)
        if not reports:
            return "not a delivery status notification"
        try:
            return summary(apply_bounces(reports))
        except (OperationalError, InterfaceError) as error:
            raise CommandError(f"database unavailable, try again later: {error}", returncode=EX_TEMPFAIL) from error
