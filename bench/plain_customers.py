"""Plain customers for the benchmarks that need many customers but not their histories: ongoing customers of
twenty CSMs in one team, written with ``bulk_create`` in batches of 5,000 (50,000 in well under a minute,
where seeding the demo's replayed journeys takes a long while).

Each customer ``n`` (``external_id`` ``plain-000123``) gets, deterministically:

* a renewal date ``n * 7919 mod 365`` days from today (a quarter of them within 90 days);
* a last touch ``n mod 60`` days ago (half of them untouched for 30 days or more);
* an MRR of R$ 200 to R$ 5,000, a segment, plan and service model in turn.

No subscriptions, timeline or tasks: the date triggers read the customer row only. Used by
``bench.playbooks_daily --plain``. Not a test: pytest never collects it.
"""

import time
from datetime import timedelta

BATCH = 5_000
CSMS = 20
PREFIX = "plain-"


def csms() -> list:
    """The benchmark's twenty CSMs and their leader, in one team (made once)."""
    from accounts.models import Role, Team, User
    from accounts.services import user_create

    team, _created = Team.objects.get_or_create(name="Bench plain")
    if team.leader_id is None:
        leader = User.objects.filter(email="leader@plain.bench.leme.app").first() or user_create(
            email="leader@plain.bench.leme.app", full_name="Bench Leader", role=Role.LEADER, team=team
        )
        team.leader = leader
        team.save(update_fields=["leader"])
    people = []
    for n in range(CSMS):
        email = f"csm{n:02d}@plain.bench.leme.app"
        person = User.objects.filter(email=email).first() or user_create(
            email=email, full_name=f"Bench CSM {n:02d}", team=team
        )
        people.append(person)
    return people


def ensure(customers: int) -> int:
    """Add plain customers until there are ``customers`` of them; returns how many were added."""
    from django.db import connection, transaction

    from core import clock
    from portfolio.models import Customer, PlanTier, Segment, ServiceModel, Stage

    have = Customer.objects.filter(external_id__startswith=PREFIX).count()
    if have >= customers:
        return 0
    owners = csms()
    today, now = clock.today(), clock.now()
    segments, plans, models = list(Segment.values), list(PlanTier.values), list(ServiceModel.values)
    started = time.monotonic()
    for first in range(have, customers, BATCH):
        rows = [
            Customer(
                name=f"Cliente plano {n:06d} Ltda",
                external_id=f"{PREFIX}{n:06d}",
                owner=owners[n % len(owners)],
                stage=Stage.ONGOING,
                stage_changed_at=now - timedelta(days=300),
                segment=segments[n % len(segments)],
                plan_tier=plans[n % len(plans)],
                service_model=models[n % len(models)],
                start_date=today - timedelta(days=400),
                renewal_date=today + timedelta(days=(n * 7919) % 365),
                last_touch_at=now - timedelta(days=n % 60),
                mrr_cents=20_000 + (n * 3_301) % 480_001,
                created_at=now - timedelta(days=400),
            )
            for n in range(first, min(first + BATCH, customers))
        ]
        with transaction.atomic():
            Customer.objects.bulk_create(rows, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"wrote {customers - have} plain customers in {time.monotonic() - started:.1f} s")
    return customers - have
