"""Rebuild the daily usage rollups from the raw events: yesterday by default, or a range of days."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from core import clock
from health import rollup

# Days per statement: a month of events per call keeps each transaction short on a large table.
CHUNK_DAYS = 31


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Rebuild health.UsageDay from the raw usage events: yesterday, or --since DAY [--until DAY]."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=_day, help="First day (YYYY-MM-DD, Leme's time zone).")
        parser.add_argument("--until", type=_day, help="Last day, included (default: today).")

    def handle(self, *args, since: date | str | None = None, until: date | str | None = None, **options) -> None:
        # call_command(since="2026-12-01") passes the text as it is.
        since = _day(since) if isinstance(since, str) else since
        until = _day(until) if isinstance(until, str) else until
        today = clock.today()
        if since is None:
            since = until = today - timedelta(days=1)
        until = until or today
        if until < since:
            raise CommandError("--until is before --since")
        written, day = 0, since
        while day <= until:
            last = min(until, day + timedelta(days=CHUNK_DAYS - 1))
            written += rollup.usage_rollup(days=[day + timedelta(days=n) for n in range((last - day).days + 1)])
            day = last + timedelta(days=1)
        self.stdout.write(f"{written} usage rows rebuilt, {since} to {until}")
