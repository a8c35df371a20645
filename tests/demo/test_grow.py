"""A demo grown past its base by copies (``demo.grow``): every copied customer is a customer of its own, with the
whole history of the base customer it copies, and every figure counted from the copies agrees with its check."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from demo import grow as growing
from demo import seed as seeding
from demo.people import demo_user, seed_people
from demo.portfolio import seed_portfolio
from demo.surveys import seed_surveys
from demo.usage import seed_usage
from health import tally as health_tally
from health.models import HealthScore, UsageDay
from health.services import scores_recompute
from metrics import operations_tallies, rollups
from playbooks.models import RunStep
from portfolio import book_tally
from portfolio.models import Activity, Customer, Subscription, Task, UtiStay
from portfolio.validators import validate_cnpj
from surveys import answers, tokens
from surveys.models import Delivery, Response

BASE = 40
TOTAL = 100  # two copies: one whole (40..79), one of the first 20 (80..99)


@pytest.fixture
def base():
    seed_people()
    seed_portfolio(customers=BASE, journeys=0)
    seed_usage(customers=BASE)
    seed_surveys(customers=BASE)
    scores_recompute(timezone.localdate(), announce=False)


def copy_of(index: int) -> int:
    return index % BASE


def rows_by_index(table) -> dict[int, int]:
    """How many rows of a copied table each demo customer has, by its index."""
    joins, _ = growing._reach(table, {t.name: t.parent for t in growing.copied_tables()})
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS grow_base")
        cursor.execute(
            "CREATE TEMP TABLE grow_base AS SELECT id, substr(external_id, 6)::int AS index "
            "FROM portfolio_customer WHERE external_id LIKE 'demo-%%'"
        )
        cursor.execute(f"SELECT b.index, count(*) FROM {table.name} t {joins} GROUP BY b.index")  # noqa: S608
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_the_copies_are_customers_of_their_own_with_their_base_customers_whole_history(base):
    lucas = demo_user("lucas")
    lucas_before = set(Customer.objects.filter(owner=lucas).values_list("external_id", flat=True))

    lines = growing.grow(TOTAL, BASE)

    assert lines[0].startswith(f"copies: {TOTAL - BASE} customers copied from the first {BASE} in 2 copies")
    customers = list(Customer.objects.filter(external_id__startswith="demo-").order_by("external_id"))
    assert [c.external_id for c in customers] == [f"demo-{i:05d}" for i in range(TOTAL)]
    for customer in customers:
        validate_cnpj(customer.cnpj)
    assert len({c.cnpj for c in customers}) == TOTAL
    assert len({c.name for c in customers}) > TOTAL * 0.9  # names drawn anew, not the base's repeated
    by_index = {int(c.external_id[5:]): c for c in customers}
    for index in range(BASE, TOTAL):
        copy, original = by_index[index], by_index[copy_of(index)]
        assert (copy.stage, copy.segment, copy.mrr_cents, copy.start_date, copy.health_band) == (
            original.stage,
            original.segment,
            original.mrr_cents,
            original.start_date,
            original.health_band,
        )
    # every copied table: each copy has exactly the rows of the customer it copies
    for table in growing.copied_tables():
        counts = rows_by_index(table)
        assert {i: counts.get(i, 0) for i in range(BASE, TOTAL)} == {
            i: counts.get(copy_of(i), 0) for i in range(BASE, TOTAL)
        }, table.name
    assert Activity.objects.filter(customer__external_id__gte=f"demo-{BASE:05d}").exists()
    assert UsageDay.objects.filter(customer__external_id__gte=f"demo-{BASE:05d}").exists()
    # Lucas keeps his portfolio; the copies of his customers went to the other CSMs
    assert set(Customer.objects.filter(owner=lucas).values_list("external_id", flat=True)) == lucas_before
    for index in range(BASE, TOTAL):
        if by_index[copy_of(index)].owner_id == lucas.pk:
            assert by_index[index].owner_id not in (None, lucas.pk)
    assert not Task.objects.filter(owner=lucas, customer__external_id__gte=f"demo-{BASE:05d}").exists()


@pytest.mark.django_db(transaction=True)
def test_a_copys_rows_point_at_the_copys_rows(base):
    growing.grow(TOTAL, BASE)

    copies = Customer.objects.filter(external_id__gte=f"demo-{BASE:05d}")
    assert Response.objects.filter(customer__in=copies).exists()
    for response in Response.objects.filter(customer__in=copies).select_related("delivery"):
        assert response.delivery.customer_id == response.customer_id
    for activity in Activity.objects.filter(customer__in=copies, contact__isnull=False).select_related("contact"):
        assert activity.contact.customer_id == activity.customer_id
    for subscription in Subscription.objects.filter(customer__in=copies, replaces__isnull=False):
        assert subscription.replaces.customer_id == subscription.customer_id
    for stay in UtiStay.objects.filter(customer__in=copies).select_related("churn_request"):
        assert stay.churn_request.customer_id == stay.customer_id
    for step in RunStep.objects.filter(run__customer__in=copies, task__isnull=False).select_related("run", "task"):
        assert step.task.customer_id == step.run.customer_id


@pytest.mark.django_db(transaction=True)
def test_each_copied_survey_link_opens_its_own_delivery(base):
    growing.grow(TOTAL, BASE)

    copied = list(Delivery.objects.filter(customer__external_id__gte=f"demo-{BASE:05d}"))
    assert copied
    assert len({d.token_salt for d in Delivery.objects.all()}) == Delivery.objects.count()
    for delivery in copied[:50]:
        assert answers.delivery_from_token(tokens.token_for(delivery.token_salt), check_open=False) == delivery


@pytest.mark.django_db(transaction=True)
def test_the_figures_counted_from_a_grown_demo_agree_with_their_checks(base):
    growing.grow(TOTAL, BASE)
    lines = seeding.seed_copies_figures()

    assert any(line.startswith("metrics:") and "period rollups built" in line for line in lines)
    assert rollups.check().ok
    assert operations_tallies.check().problems == []
    assert health_tally.check().ok
    assert book_tally.check().ok  # the copies' customers, written INSERT … SELECT, counted by the triggers
    assert HealthScore.objects.filter(customer__external_id__gte=f"demo-{BASE:05d}").count() == (
        HealthScore.objects.filter(customer__external_id__lt=f"demo-{TOTAL - BASE:05d}").count()
    )
    call_command("mrr_recompute", "--check")  # raises when the ledger disagrees with the subscriptions


@pytest.mark.django_db(transaction=True)
def test_growing_again_copies_nothing_and_growing_further_adds_only_the_missing_copies(base):
    growing.grow(TOTAL, BASE)
    before = Customer.objects.count()

    assert growing.grow(TOTAL, BASE) == [f"copies: all {TOTAL - BASE} copied customers already there"]
    assert Customer.objects.count() == before

    lines = growing.grow(TOTAL + BASE, BASE)  # the second copy gets its last 20, a third copy its first 20
    assert lines[0].startswith(f"copies: {BASE} customers copied from the first {BASE} in 2 copies")
    grown = Customer.objects.filter(external_id__startswith="demo-").values_list("external_id", flat=True)
    assert sorted(grown) == [f"demo-{i:05d}" for i in range(TOTAL + BASE)]


@pytest.mark.django_db(transaction=True)
def test_seed_demo_past_the_base_seeds_the_base_then_copies_it_then_counts(monkeypatch, capsys):
    monkeypatch.setattr(seeding, "COPY_ABOVE", BASE)

    call_command("seed_demo", "--customers", str(TOTAL), "--no-health-history")

    out = capsys.readouterr().out
    assert Customer.objects.filter(external_id__startswith="demo-").count() == TOTAL
    assert f"copies: {TOTAL - BASE} customers copied from the first {BASE}" in out
    assert "copies… 2/2: portfolio_customer, 20 rows" in out  # the progress, as it goes
    assert "period rollups built" in out
    assert "vacuumed:" in out
    assert rollups.check().ok
