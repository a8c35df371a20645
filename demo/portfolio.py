"""The demo portfolio: a realistic Brazilian customer base for the demo team.

Every demo customer is first *planned* (``demo.plans``: a pure function of the seed and the customer's
index), then written one of two ways:

* through ``portfolio.services`` (the default for up to ``BULK_ABOVE`` customers, and the first
  ``SHOWCASE`` customers of a larger base): every step is replayed on its own day (``demo.history``), so the
  journey's rules, the ledger and the automatic tasks come from the same code the app runs;
* in bulk (the rest of a large base, e.g. ``--customers 50000``; ``demo.bulk``): the same plan becomes rows
  with ``bulk_create`` in chunks, mirroring what the services would have written.

Demo customers have ``external_id`` ``demo-NNNNN``; seeding again only adds the indices that are missing.
"""

import logging
import time
from collections.abc import Callable, Iterator
from datetime import date

from django.db import connection, reset_queries, transaction
from django.db.models import Count
from django.utils import timezone

from config.celery import app as celery_app
from demo.bulk import write_in_bulk
from demo.history import write_with_services
from demo.people import LEADER_KEY, demo_user
from demo.plans import CSMS, EXTERNAL_PREFIX, FARMER, ISM, Context, label, plan_customer
from demo.words import TAGS
from portfolio import services
from portfolio.models import ChurnReason, Customer, ServiceModel, Stage, Tag

logger = logging.getLogger(__name__)

DEFAULT_CUSTOMERS = 300
BULK_ABOVE = 1000  # larger bases are built in bulk, after a SHOWCASE built through the services
SHOWCASE = 300
JOURNEYS_PER_REPORT = 25  # customers replayed through the services between two progress lines
CHUNK = 1000  # customers written in bulk per transaction


def _context(today: date) -> Context:
    people = {key: demo_user(key) for key in [*CSMS, ISM, FARMER, LEADER_KEY]}
    policies = {}
    for service_model in ServiceModel.values:
        policy = services.policy_for(service_model)
        policies[service_model] = (
            policy.first_value_days,
            policy.first_success_days,
            policy.review_every_months,
            policy.handoff_by_meeting,
            policy.uti_days,
        )
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    reasons = {reason.code: reason for reason in ChurnReason.objects.select_related("category")}
    return Context(today=today, people=people, reasons=reasons, tags=tags, policies=policies)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_replay_possible() -> None:
    # Replayed history relies on subscribers acting right after each step commits, in this process
    # (demo.history.on_day); inside a transaction, or with tasks sent to a worker, they would act later, on
    # the wrong day, and the replay would miss the tasks they create.
    if connection.in_atomic_block:
        raise RuntimeError("The demo's history is replayed step by step with commits: call it outside a transaction.")
    if not celery_app.conf.task_always_eager:
        raise RuntimeError("The demo's history needs Celery tasks run in-process (seed_demo runs them so).")


def seed_portfolio(
    customers: int | None = None,
    seed: int = 2026,
    journeys: int | None = None,
    progress: Callable[[str], None] | None = None,
    **_,
) -> list[str]:
    """Create the demo customers that are missing (``customers`` of them, 300 by default; 0 for none).

    The first ``journeys`` customers are built through the services (all of them up to BULK_ABOVE, else the
    first SHOWCASE); the rest in bulk. Tests pass ``journeys`` to force either path. ``progress`` is told
    how far it got, every few customers.
    """
    report = progress or (lambda line: None)
    total = DEFAULT_CUSTOMERS if customers is None else customers
    if total <= 0:
        return ["customers: none asked for"]
    if journeys is None:
        journeys = total if total <= BULK_ABOVE else min(total, SHOWCASE)
    existing = set(
        Customer.objects.filter(external_id__startswith=EXTERNAL_PREFIX).values_list("external_id", flat=True)
    )
    missing = [i for i in range(total) if f"{EXTERNAL_PREFIX}{i:05d}" not in existing]
    if not missing:
        return [f"customers: all {total} demo customers already there"]
    through_services = [i for i in missing if i < journeys]
    in_bulk = [i for i in missing if i >= journeys]
    if through_services:
        _check_replay_possible()
    today = timezone.localdate()
    ctx = _context(today)
    started = time.monotonic()
    done = 0
    report(f"portfolio… {len(missing)} customers to create, {len(existing)} already there")
    for chunk in _chunks(through_services, JOURNEYS_PER_REPORT):
        for index in chunk:
            write_with_services(plan_customer(index, seed, today, ctx.policies), ctx)
        done += len(chunk)
        report(f"portfolio {done}/{len(missing)} customers…")
    for chunk in _chunks(in_bulk, CHUNK):
        with transaction.atomic():
            write_in_bulk([plan_customer(index, seed, today, ctx.policies) for index in chunk], ctx)
        reset_queries()  # with DEBUG on, Django would keep every (huge) bulk INSERT in memory
        done += len(chunk)
        logger.info("demo customers written", extra={"up_to": chunk[-1], "seconds": time.monotonic() - started})
        report(f"portfolio {done}/{len(missing)} customers… (in bulk)")
    stages = dict(
        Customer.objects.filter(external_id__startswith=EXTERNAL_PREFIX)
        .values_list("stage")
        .annotate(n=Count("pk"))
        .order_by()
    )
    summary = ", ".join(f"{stages.get(stage, 0)} {label(Stage, stage).lower()}" for stage in Stage.values)
    return [
        f"customers: {len(missing)} created ({len(through_services)} through the services, {len(in_bulk)} in bulk) "
        f"in {time.monotonic() - started:.0f}s; {len(existing)} already there",
        f"customers by stage: {summary}",
    ]
