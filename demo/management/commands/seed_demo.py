import time

from django.core.management.base import BaseCommand, CommandError

from demo import people
from demo.seed import seed_all


class Command(BaseCommand):
    help = "Fill the database with Leme's demo: a Brazilian CS team, its customers and their surveys."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even though the database has real data.")
        parser.add_argument(
            "--customers", type=int, default=None, help="How many customers to create (benchmarks use 50000)."
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for repeatable data.")
        parser.add_argument("--quiet", action="store_true", help="Print nothing (as --verbosity 0).")
        parser.add_argument(
            "--no-health-history",
            dest="health_history",
            action="store_false",
            help="Do not compute the health scores of the last 12 months (the usage is written all the same).",
        )

    def handle(self, *args, **options):
        real = people.non_demo_people()
        if real and not options["force"]:
            raise CommandError(
                f"This database has {real} people who are not part of the demo; seed_demo will not mix demo data "
                "into real data. Use --force if you are sure."
            )
        loud = options["verbosity"] > 0 and not options["quiet"]
        started = time.monotonic()

        def progress(line: str) -> None:
            # Seeding a few hundred customers takes a minute or more: say how far it got, as it goes.
            if loud:
                self.stdout.write(f"{line} ({time.monotonic() - started:.0f} s)")
                self.stdout.flush()

        for line in seed_all(
            customers=options["customers"],
            seed=options["seed"],
            progress=progress,
            health_history=options["health_history"],
        ):
            if loud:
                self.stdout.write(f"  {line}")
        if not loud:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready in {time.monotonic() - started:.0f} s. Log in with any of these "
                f"(password: {people.DEMO_PASSWORD}):"
            )
        )
        for person in people.PEOPLE:
            self.stdout.write(f"  {person.email:<32} {person.full_name:<18} {person.role}")
