"""python manage.py health_recompute [--day YYYY-MM-DD]: the nightly health run, for one day."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from health import services


class Command(BaseCommand):
    help = "Compute every customer's health score for a day (today by default); safe to run again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--day", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, **options) -> None:
        day = None
        if options["day"]:
            try:
                day = date.fromisoformat(options["day"])
            except ValueError as exc:
                raise CommandError(f"--day must be YYYY-MM-DD, not {options['day']!r}") from exc
        result = services.scores_recompute(day)
        if result.skipped:
            self.stdout.write(f"{result.day}: another run of this day is under way; nothing done")
            return
        self.stdout.write(
            f"{result.day}: {result.scored} customers scored, {result.band_changes} band changes, "
            f"{result.overrides_ended} overrides ended"
        )
