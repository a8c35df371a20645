"""How fast does the demo write its usage history on a big base? See bench/README.md.

Builds (or reuses) a PostgreSQL database with the demo team and ``--customers`` demo customers written in bulk
(no replay through the services, no surveys, no health history), deletes their usage, then times
``demo.usage.seed_usage`` writing about 13 months of daily usage for them, and prints the customers, the rows,
the seconds and the rows per second, with the time it extrapolates to for 50,000 customers.

Not a test: pytest never collects it (``testpaths = ["tests"]``).
"""

import argparse
import os
import time

from bench.portfolio_page import DEFAULT_URL, ensure_database


def main(argv: list[str] | None = None, figures: dict | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000, help="Demo customers to write usage for.")
    parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the database first.")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("TEST_DATABASE_URL", DEFAULT_URL)
    ensure_database(os.environ["TEST_DATABASE_URL"], rebuild=args.rebuild)

    import django

    django.setup()
    from django.core.management import call_command

    from demo.people import seed_people
    from demo.portfolio import seed_portfolio
    from demo.usage import seed_usage
    from health.models import UsageDay

    call_command("migrate", verbosity=0)
    seed_people()
    started = time.monotonic()
    print(seed_portfolio(customers=args.customers, journeys=0)[0])
    print(f"portfolio in bulk: {time.monotonic() - started:.0f} s")
    UsageDay.objects.filter(customer__external_id__startswith="demo-").delete()

    started = time.monotonic()
    lines = seed_usage(customers=args.customers)
    seconds = time.monotonic() - started
    rows = UsageDay.objects.count()
    print(lines[0])
    print(
        f"usage: {rows} rows for {args.customers} customers in {seconds:.1f} s ({rows / seconds:,.0f} rows/s); "
        f"50,000 customers ≈ {seconds * 50_000 / args.customers:.0f} s"
    )
    if figures is not None:  # for bench.all's table
        figures.update(customers=args.customers, rows=rows, seconds=seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
