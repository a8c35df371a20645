"""How fast are the metrics page, its drill-downs and the nightly rollup rebuild on a big ledger?

The demo seeder (``seed_demo``) is the intended data; until it gives a ledger of the size wanted, this
script writes its own: a team of eight CSMs and a leader, and ``--customers`` customers (50,000 by default)
started over the last ``--months`` months (40), each with a subscription history — monthly and annual plans,
an add-on for some (expansion), a downgrade for others (contraction), churn, a return for a few
(reactivation), a reassignment mid-history for some — turned into the MRR ledger by
``portfolio.ledger.compute_movements`` exactly as the services would, and written in bulk.

Then it times ``metrics_rebuild`` (every period and the cohort cells; the cohort cells alone too), and, as
the leader who sees everyone, the metrics page over its periods and filters (the cohort tables included) and
the drill-downs (a cohort cell's too), printing the median and p95 in milliseconds. Exits 1 when a p95
misses ``--target``. Not a test: pytest never collects it.

    DJANGO_SETTINGS_MODULE=config.settings.test \\
    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leme_metrics_bench \\
      .venv/bin/python -m bench.metrics_page
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leme_metrics_bench"
PREFIX = "mbench-"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=40, help="Months of history.")
    parser.add_argument("--requests", type=int, default=40, help="Timed requests per page.")
    parser.add_argument("--target", type=float, default=150.0, help="p95 target in milliseconds.")
    parser.add_argument("--check", action="store_true", help="Also time metrics_rebuild --check.")
    parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild the database first.")
    parser.add_argument(
        "--no-rollups", action="store_true", help="Time the pages on the rollups already built (no metrics_rebuild)."
    )
    parser.add_argument("--profile", action="store_true", help="Print a cProfile of one request of each page.")
    parser.add_argument(
        "--demo",
        default="",
        help="Time the demo's people instead (e.g. mariana,lucas) on a seeded demo database: no ledger written, "
        "no rebuild (the rollups as they are).",
    )
    parser.add_argument("--only", default="", help="Time only these parts, comma-separated (page,csms,operations…).")
    return parser.parse_args(argv)


def histories(count: int, months: int, today: date, seed: int = 7):
    """(index, start, subscriptions, reassigned_on) per customer; subscriptions are unsaved rows."""
    from portfolio.ledger import add_months
    from portfolio.models import BillingPeriod, Subscription

    rng = random.Random(seed)
    first = add_months(today.replace(day=1), -months)
    span = (today - first).days
    for index in range(count):
        # More customers start in later months: a growing base.
        start = first + timedelta(days=int(span * rng.random() ** 0.7))
        amount = rng.choice([9_900, 19_900, 49_900, 99_900, 249_900, 499_900])
        annual = rng.random() < 0.15
        end = start + timedelta(days=rng.randint(60, 900)) if rng.random() < 0.35 else None
        if end is not None and end > today:
            end = None
        subs = [
            Subscription(
                product="Plataforma",
                amount_cents=amount * (12 if annual else 1),
                billing_period=BillingPeriod.ANNUAL if annual else BillingPeriod.MONTHLY,
                start_date=start,
                end_date=end,
                status="cancelled" if end else "active",
            )
        ]
        if rng.random() < 0.25:
            add_on = start + timedelta(days=rng.randint(30, 400))
            if add_on < (end or today):
                subs.append(
                    Subscription(
                        product="BI",
                        amount_cents=amount // 3,
                        billing_period="monthly",
                        start_date=add_on,
                        end_date=end,
                        status="cancelled" if end else "active",
                    )
                )
        if end is not None and rng.random() < 0.2:
            back = end + timedelta(days=rng.randint(40, 300))
            if back < today:
                subs.append(
                    Subscription(
                        product="Plataforma",
                        amount_cents=amount,
                        billing_period="monthly",
                        start_date=back,
                        status="active",
                    )
                )
        reassigned = start + timedelta(days=rng.randint(30, 600)) if rng.random() < 0.08 else None
        if reassigned is not None and reassigned >= today:
            reassigned = None
        yield index, start, subs, reassigned


def build(customers: int, months: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, Team, User
    from portfolio import ledger
    from portfolio.models import Customer, MrrMovement, OwnershipPeriod

    call_command("migrate", verbosity=0)
    have = Customer.objects.filter(external_id__startswith=PREFIX).count()
    if have >= customers:
        return
    print(f"writing {customers - have} customers and their ledger")
    started = time.monotonic()
    team, _ = Team.objects.get_or_create(name="Bench")
    leader = User.objects.filter(email="leader@mbench.test").first() or User.objects.create_user(
        "leader@mbench.test", "x", full_name="Líder Bench", role=Role.LEADER, team=team
    )
    Team.objects.filter(pk=team.pk).update(leader=leader)
    csms = [
        User.objects.filter(email=f"csm{n}@mbench.test").first()
        or User.objects.create_user(f"csm{n}@mbench.test", "x", full_name=f"CSM {n}", role=Role.CSM, team=team)
        for n in range(8)
    ]
    today = timezone.localdate()
    rng = random.Random(11)
    tz = timezone.get_current_timezone()
    batch: list = []

    def flush(batch):
        with transaction.atomic():
            rows = Customer.objects.bulk_create([c for c, *_ in batch])
            periods, movements = [], []
            for customer, start, subs, reassigned, first_owner, second_owner in batch:
                begin = datetime(start.year, start.month, start.day, tzinfo=tz)
                if reassigned:
                    moved = datetime(reassigned.year, reassigned.month, reassigned.day, 12, tzinfo=tz)
                    periods += [
                        OwnershipPeriod(customer=customer, owner=first_owner, started_at=begin, ended_at=moved),
                        OwnershipPeriod(customer=customer, owner=second_owner, started_at=moved),
                    ]
                else:
                    periods.append(OwnershipPeriod(customer=customer, owner=first_owner, started_at=begin))
                own = [p for p in periods if p.customer is customer]
                movements += ledger.movement_rows(customer, ledger.compute_movements(subs, until=today), own)
            OwnershipPeriod.objects.bulk_create(periods, batch_size=5000)
            MrrMovement.objects.bulk_create(movements, batch_size=5000)
        return len(rows)

    written = 0
    for index, start, subs, reassigned in histories(customers, months, today):
        if index < have:
            continue
        first_owner = rng.choice(csms)
        second_owner = rng.choice(csms) if reassigned else None
        owner = second_owner or first_owner
        customer = Customer(
            name=f"Cliente {index:05d}",
            external_id=f"{PREFIX}{index:05d}",
            segment=rng.choice(["smb", "smb", "mid", "enterprise"]),
            plan_tier=rng.choice(["essential", "pro", "business", "enterprise"]),
            service_model=rng.choice(["high", "low", "tech", "tech"]),
            stage="ongoing",
            owner=owner,
            start_date=start,
            mrr_cents=ledger.mrr_on(subs, today),
        )
        batch.append((customer, start, subs, reassigned, first_owner, second_owner))
        if len(batch) == 2000:
            written += flush(batch)
            batch = []
    if batch:
        written += flush(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"wrote {written} customers, {MrrMovement.objects.count()} ledger rows in {time.monotonic() - started:.0f} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def timed(client, url: str, variants: list[str], requests: int, htmx: bool = False) -> list[tuple[str, float, int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get(query: str) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(f"{url}?{query}", headers={"HX-Request": "true"} if htmx else {})
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url}?{query} answered {response.status_code}")
        return elapsed, len(queries)

    for query in variants:
        get(query)
    results = []
    for n in range(requests):
        query = variants[n % len(variants)]
        elapsed, queries = get(query)
        results.append((query, elapsed, queries))
    return results


def profile(client, url: str, query: str, htmx: bool = False) -> None:
    """One request under cProfile, after a warm-up: the 25 costliest calls, cumulative."""
    import cProfile
    import pstats

    headers = {"HX-Request": "true"} if htmx else {}
    client.get(f"{url}?{query}", headers=headers)
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(f"{url}?{query}", headers=headers)
    profiler.disable()
    print(f"\nprofile of {url}?{query}")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def report(title: str, results: list[tuple[str, float, int]], target: float, figures: dict | None = None) -> bool:
    print(f"\n{title}")
    for query in dict.fromkeys(q for q, _, _ in results):
        times = [t for q, t, _ in results if q == query]
        queries = next(n for q, _, n in results if q == query)
        print(
            f"  {query or '(default)':60} median {statistics.median(times):7.1f} ms  worst {max(times):7.1f}  "
            f"{queries} queries"
        )
    times = [t for _, t, _ in results]
    p95 = percentile(times, 0.95)
    print(f"  median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms (target {target:.0f})")
    if figures is not None:  # for bench.all's table
        row = {"title": title, "median_ms": statistics.median(times), "p95_ms": p95, "target_ms": target}
        figures.setdefault("reports", []).append(row)
    return p95 <= target


PARTS = ("page", "reasons", "unit_economics", "cohorts", "csms", "save", "operations", "drilldowns")


def variants(month: str, cohort: str, csm_pk: int) -> tuple[list[str], list[str]]:
    """The page's periods and filters, and the drill-downs, timed in turn."""
    pages = [
        "",
        f"period=month&month={month}",
        f"period=quarter&month={month}",
        f"period=year&month={month}",
        f"period=t12m&month={month}",
        f"period=quarter&month={month}&segment=smb&service_model=tech",
        f"period=t12m&month={month}&owner={csm_pk}",
    ]
    drills = [
        f"figure=churn&period=month&month={month}",
        f"figure=mrr&period=month&month={month}",
        f"figure=contraction&period=quarter&month={month}",
        f"figure=logo_churn&period=t12m&month={month}&owner={csm_pk}",
        f"figure=mrr&period=year&month={month}&page=20",
        f"figure=mrr&period=month&month={month}&cohort={cohort}",
        f"figure=mrr&period=month&month={month}&cohort={cohort}&owner={csm_pk}",
    ]
    return pages, drills


def time_parts(client, who: str, parts: list[str], pages, drills, args, figures) -> bool:
    """The page, each panel (as htmx asks for it when it comes into view) and the drill-downs, as ``who``."""
    from django.urls import reverse

    ok = True
    if "page" in parts:
        title = f"metrics page, as {who}" + (" who sees everyone" if who == "the leader" else "")
        ok &= report(title, timed(client, reverse("metrics:overview"), pages, args.requests), args.target, figures)
    for name in ("reasons", "unit_economics", "cohorts", "csms", "save", "operations"):
        if name not in parts:
            continue
        url = reverse(f"metrics:panel_{name}")
        if client.get(url, headers={"HX-Request": "true"}).status_code == 403:
            print(f"\npanel {name}, as {who}: not theirs (403)")
            continue
        ok &= report(
            f"panel {name}, as {who} (htmx)", timed(client, url, pages, args.requests, htmx=True), args.target, figures
        )
    if "drilldowns" in parts:
        drilled = timed(client, reverse("metrics:drilldown"), drills, args.requests)
        ok &= report(f"drill-downs, as {who}", drilled, args.target, figures)
    return ok


def rebuild_operations_tallies(figures: dict | None) -> None:
    """The CS operations' closed months counted again, timed (the beat's job every ten minutes; the pages count
    live once the last build is older than half an hour)."""
    from metrics import operations_tallies

    started = time.monotonic()
    built = operations_tallies.rebuild()
    seconds = time.monotonic() - started
    print(f"\nCS operations tallies: {built['rows']:,} rows in {seconds:.1f} s")
    if figures is not None:  # for bench.all's table
        figures["ops_tallies_s"] = seconds


def demo(args: argparse.Namespace, figures: dict | None) -> int:
    """The same parts on the seeded demo (``seed_demo``), as each of ``--demo``'s people."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from demo.people import demo_user
    from portfolio.ledger import add_months

    parts = [p.strip() for p in args.only.split(",") if p.strip()] or list(PARTS)
    today = timezone.localdate().replace(day=1)
    pages, drills = variants(f"{add_months(today, -1):%Y-%m}", f"{add_months(today, -13):%Y-%m}", demo_user("lucas").pk)
    rebuild_operations_tallies(figures)  # as the beat does every ten minutes
    ok = True
    for key in [k.strip() for k in args.demo.split(",") if k.strip()]:
        client = Client()
        client.force_login(demo_user(key))
        if args.profile:
            for name in ("csms", "operations"):
                profile(client, reverse(f"metrics:panel_{name}"), pages[1], htmx=True)
        ok &= time_parts(client, key, parts, pages, drills, args, figures)
    return 0 if ok else 1


def main(argv: list[str] | None = None, figures: dict | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("TEST_DATABASE_URL", DEFAULT_URL)
    from bench.portfolio_page import ensure_database

    if not args.demo:
        ensure_database(os.environ["TEST_DATABASE_URL"], rebuild=args.rebuild)
    import django

    django.setup()
    if args.demo:
        return demo(args, figures)
    build(args.customers, args.months)

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import User
    from metrics import cohorts, rollups
    from metrics.models import CohortCell
    from portfolio.ledger import add_months

    if not args.no_rollups or not CohortCell.objects.exists():
        started = time.monotonic()
        built = rollups.rebuild_all()
        print(f"\nmetrics_rebuild: {built} periods and the cohort cells in {time.monotonic() - started:.1f} s")
        if figures is not None:  # for bench.all's table
            figures["rebuild_s"] = time.monotonic() - started
        started = time.monotonic()
        cohorts.build(last=timezone.localdate().replace(day=1))
        print(f"cohort cells alone: {CohortCell.objects.count()} cells in {time.monotonic() - started:.1f} s")
    rebuild_operations_tallies(figures)
    if args.check:
        started = time.monotonic()
        result = rollups.check()
        print(
            f"metrics_rebuild --check: {'ok' if result.ok else 'DIFFERS'}, {result.slices} slices in "
            f"{time.monotonic() - started:.1f} s"
        )
    leader = User.objects.get(email="leader@mbench.test")
    csm = User.objects.get(email="csm0@mbench.test")
    client = Client()
    client.force_login(leader)

    today = timezone.localdate().replace(day=1)
    pages, drills = variants(f"{add_months(today, -1):%Y-%m}", f"{add_months(today, -13):%Y-%m}", csm.pk)
    if args.profile:
        profile(client, reverse("metrics:overview"), pages[3])
        profile(client, reverse("metrics:panel_csms"), pages[3])
        profile(client, reverse("metrics:drilldown"), drills[4])
    parts = [p.strip() for p in args.only.split(",") if p.strip()] or list(PARTS)
    ok = time_parts(client, "the leader", parts, pages, drills, args, figures)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
