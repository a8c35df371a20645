from django.core.management.base import BaseCommand, CommandError

from accounts import demo


class Command(BaseCommand):
    help = "Fill the database with Leme's demo: a Brazilian CS team and, as apps add them, its customers."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even though the database has real data.")
        parser.add_argument(
            "--customers", type=int, default=None, help="How many customers to create (benchmarks use 50000)."
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for repeatable data.")

    def handle(self, *args, **options):
        real = demo.non_demo_people()
        if real and not options["force"]:
            raise CommandError(
                f"This database has {real} people who are not part of the demo; seed_demo will not mix demo data "
                "into real data. Use --force if you are sure."
            )
        for _order, _name, seeder in demo.seeders():
            for line in seeder(customers=options["customers"], seed=options["seed"]):
                self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(f"Demo ready. Log in with any of these (password: {demo.DEMO_PASSWORD}):"))
        for person in demo.PEOPLE:
            self.stdout.write(f"  {person.email:<32} {person.full_name:<18} {person.role}")
