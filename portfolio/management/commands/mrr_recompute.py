"""Prove the stored MRR ledger is what the subscriptions imply, and that it adds up.

Two independent checks:

1. Per customer: ``ledger.compute_movements`` from its subscriptions must equal its stored
   ``MrrMovement`` rows (kind, amount, start and end MRR), and ``Customer.mrr_cents`` its MRR today.
2. The identity MRR(end) = MRR(start) + new + expansion + reactivation - contraction - churn, for every
   month, overall and per slice (owner, segment, plan tier, service model as stored on the rows). The
   MRR levels come from the subscriptions (``ledger.mrr_on`` at month ends); the movement totals come
   from the stored rows, summed by the database. A customer-month counts in the slice of its ledger row
   that month; a month without a row moves nothing, so it may count anywhere (its current attributes).

Customers are read in primary-key chunks with their subscriptions and rows, so memory stays bounded on
any number of customers; only per-month, per-slice totals are kept. ``--fix`` rewrites the customers
that differ with ``ledger.sync_customer`` and checks again.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum
from django.utils import timezone

from portfolio import ledger
from portfolio.models import Customer, MovementKind, MrrMovement, Subscription

SLICES = ("owner", "segment", "plan_tier", "service_model")
COLUMN = {"owner": "owner_id", "segment": "segment", "plan_tier": "plan_tier", "service_model": "service_model"}
SIGN = {
    MovementKind.NEW: 1,
    MovementKind.EXPANSION: 1,
    MovementKind.REACTIVATION: 1,
    MovementKind.CONTRACTION: -1,
    MovementKind.CHURN: -1,
}
SHOWN = 20  # differences printed in full; the rest are counted


@dataclass
class Report:
    customers: int = 0
    customer_months: int = 0
    first_month: date | None = None
    last_month: date | None = None
    differing: list[int] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    # (month, slice name, slice value) -> [MRR at start, MRR at end]; slice name "" is the whole ledger.
    levels: dict[tuple, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    identity_failures: list[str] = field(default_factory=list)
    slices_checked: int = 0

    def differ(self, customer_id: int, text: str) -> None:
        if not self.differing or self.differing[-1] != customer_id:
            self.differing.append(customer_id)
        if len(self.details) < SHOWN:
            self.details.append(text)


def _cents(value: int) -> str:
    return f"{value / 100:,.2f}"


def _check_customer(customer: Customer, subscriptions: list, rows: list[MrrMovement], today: date, report: Report):
    computed = {m.month: m for m in ledger.compute_movements(subscriptions, until=today)}
    stored = {row.month: row for row in rows}
    label = f"customer {customer.pk} ({customer.name})"
    for month in sorted(computed.keys() | stored.keys()):
        want, have = computed.get(month), stored.get(month)
        if have is None:
            report.differ(customer.pk, f"{label} {month:%Y-%m}: missing row, expected {want.kind} {want.amount_cents}")
        elif want is None:
            report.differ(customer.pk, f"{label} {month:%Y-%m}: extra row {have.kind} {have.amount_cents}")
        elif not ledger.same_movement(have, want):
            report.differ(
                customer.pk,
                f"{label} {month:%Y-%m}: stored {have.kind} {have.amount_cents} "
                f"({have.mrr_start_cents}→{have.mrr_end_cents}), expected {want.kind} {want.amount_cents} "
                f"({want.mrr_start_cents}→{want.mrr_end_cents})",
            )
    current = ledger.mrr_on(subscriptions, today)
    if customer.mrr_cents != current:
        report.differ(customer.pk, f"{label}: mrr_cents is {customer.mrr_cents}, subscriptions say {current}")

    starts = [s.start_date for s in subscriptions] + list(stored)
    if not starts:
        return
    months = ledger.months_between(min(starts), max([today, *stored]))
    if not months:  # only subscriptions that start after this month: nothing to check yet
        return
    report.customer_months += len(months)
    report.first_month = min(report.first_month or months[0], months[0])
    report.last_month = max(report.last_month or months[-1], months[-1])
    attributes = {name: getattr(customer, COLUMN[name]) for name in SLICES}
    previous = ledger.mrr_on(subscriptions, ledger.month_end(ledger.add_months(months[0], -1)))
    for month in months:
        current = ledger.mrr_on(subscriptions, ledger.month_end(month))
        if previous or current:
            row = stored.get(month)
            keys = [(month, "", "")] + [
                (month, name, getattr(row, COLUMN[name]) if row else attributes[name]) for name in SLICES
            ]
            for key in keys:
                level = report.levels[key]
                level[0] += previous
                level[1] += current
        previous = current


def _check_identity(report: Report) -> None:
    """Compare the levels from subscriptions with the movements the database sums from the stored rows."""
    moved: dict[tuple, int] = defaultdict(int)
    for row in MrrMovement.objects.values("month", "kind").annotate(total=Sum("amount_cents")).order_by():
        moved[(row["month"], "", "")] += SIGN[row["kind"]] * row["total"]
    for name in SLICES:
        column = COLUMN[name]
        for row in MrrMovement.objects.values("month", column, "kind").annotate(total=Sum("amount_cents")).order_by():
            moved[(row["month"], name, row[column])] += SIGN[row["kind"]] * row["total"]
    keys = set(report.levels) | set(moved)
    report.slices_checked = len(keys)
    for key in sorted(keys, key=lambda k: (k[0], k[1], str(k[2]))):
        start, end = report.levels.get(key, (0, 0))
        if end - start != moved.get(key, 0):
            month, name, value = key
            where = f"{name}={value}" if name else "overall"
            report.identity_failures.append(
                f"{month:%Y-%m} {where}: MRR {_cents(start)} → {_cents(end)} from subscriptions, "
                f"but the movements add up to {_cents(moved.get(key, 0))}"
            )


def check(*, today: date, chunk: int = 1000) -> Report:
    report = Report()
    last_pk = 0
    customers = Customer.objects.only("pk", "name", "owner_id", "segment", "plan_tier", "service_model", "mrr_cents")
    subscription_fields = (
        "customer_id",
        "amount_cents",
        "billing_period",
        "status",
        "is_trial",
        "start_date",
        "end_date",
    )
    while True:
        batch = list(customers.filter(pk__gt=last_pk).order_by("pk")[:chunk])
        if not batch:
            break
        last_pk = batch[-1].pk
        ids = [c.pk for c in batch]
        subscriptions, rows = defaultdict(list), defaultdict(list)
        for subscription in Subscription.objects.filter(customer_id__in=ids).only(*subscription_fields).order_by():
            subscriptions[subscription.customer_id].append(subscription)
        for row in MrrMovement.objects.filter(customer_id__in=ids).order_by():
            rows[row.customer_id].append(row)
        for customer in batch:
            _check_customer(customer, subscriptions[customer.pk], rows[customer.pk], today, report)
        report.customers += len(batch)
    _check_identity(report)
    return report


class Command(BaseCommand):
    help = (
        "Recompute every customer's MRR movements from its subscriptions, compare them with the stored ledger, "
        "and verify MRR(end) = MRR(start) + movements for every month, overall and per slice. "
        "Exits with an error when anything disagrees; --fix rewrites the customers that differ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only check (the default).")
        parser.add_argument("--fix", action="store_true", help="Rewrite the customers that differ, then check again.")
        parser.add_argument("--chunk", type=int, default=1000, help="Customers read per query.")

    def handle(self, *args, **options):
        today = timezone.localdate()
        report = check(today=today, chunk=options["chunk"])
        self._print(report)
        if options["fix"] and (report.differing or report.identity_failures):
            fixed = 0
            for start in range(0, len(report.differing), options["chunk"]):
                ids = report.differing[start : start + options["chunk"]]
                for customer in Customer.objects.filter(pk__in=ids):
                    ledger.sync_customer(customer, today=today)
                    fixed += 1
            self.stdout.write(f"Rewrote the ledger of {fixed} customers; checking again.")
            report = check(today=today, chunk=options["chunk"])
            self._print(report)
        if report.differing or report.identity_failures:
            raise CommandError(
                f"The MRR ledger disagrees: {len(report.differing)} customers differ from their subscriptions, "
                f"{len(report.identity_failures)} month/slice identities fail."
                + ("" if options["fix"] else " Run with --fix to rewrite the customers that differ.")
            )
        self.stdout.write(self.style.SUCCESS("The MRR ledger agrees with the subscriptions."))

    def _print(self, report: Report) -> None:
        months = len(ledger.months_between(report.first_month, report.last_month)) if report.first_month else 0
        span = f", {report.first_month:%Y-%m} to {report.last_month:%Y-%m}" if report.first_month else ""
        self.stdout.write(
            f"Checked {report.customers} customers over {months} months{span} "
            f"({report.customer_months} customer-months); {report.slices_checked} month/slice identities."
        )
        if report.differing:
            self.stdout.write(f"{len(report.differing)} customers differ from their subscriptions:")
            for line in report.details:
                self.stdout.write(f"  {line}")
            if len(report.details) < len(report.differing):
                self.stdout.write("  …")
        for line in report.identity_failures[:SHOWN]:
            self.stdout.write(f"  identity fails: {line}")
        if len(report.identity_failures) > SHOWN:
            self.stdout.write(f"  … and {len(report.identity_failures) - SHOWN} more identity failures")
