"""The health overview's bands per CSM and the health list's count and MRR, read from the customer book's tally
(``CustomerBookTally``) by someone who sees every customer: the same figures as a count of the customers, in the
same number of queries, without summing the customers; anyone else counts their customers."""

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from core import clock
from health.selectors_leader import NO_SCORE, HealthCustomerFilters, health_customers, health_overview
from portfolio import book_tally, services
from portfolio.models import Customer
from tests.health.leader_factories import score
from tests.portfolio.factories import CustomerFactory, subscribe

pytestmark = pytest.mark.django_db

SUMMED_CUSTOMERS = 'SUM("portfolio_customer"."mrr_cents")'  # a count of the customers' MRR
TALLY = "portfolio_customerbooktally"


@pytest.fixture
def book(org):
    """Team A holds every customer (so its leader sees them all): Lucas's and Beatriz's in several bands, segments,
    service models and stages, one without a CSM (team A's by its ISM), and a churned one."""
    made = []
    for owner, value, mrr, segment, service_model in [
        (org.csm_a, 30, 100_000, "smb", "high"),
        (org.csm_a, 45, 250_000, "mid", "high"),
        (org.csm_a, 90, 50_000, "smb", "low"),
        (org.csm_a, None, 70_000, "smb", "high"),
        (org.csm_a2, 60, 80_000, "enterprise", "tech"),
        (org.csm_a2, 20, 10_000, "enterprise", "tech"),
        (None, 80, 40_000, "smb", "low"),
    ]:
        customer = CustomerFactory(
            owner=owner, implementation_manager=org.ism_a, segment=segment, service_model=service_model
        )
        subscribe(customer, amount_cents=mrr)
        score(customer, clock.today(), value)
        made.append(customer)
    Customer.objects.filter(pk=made[1].pk).update(stage="ongoing")
    Customer.objects.filter(pk=made[2].pk).update(stage="churned")  # not scored: no band of the overview's
    return made


def live_bands() -> dict:
    """The overview's cells counted in the test from the customers: per CSM and band, the churned left out."""
    rows = (
        Customer.objects.exclude(stage="churned")
        .values_list("owner_id", "health_band")
        .annotate(n=Count("pk"), mrr=Sum("mrr_cents"))
    )
    return {(owner, band or NO_SCORE): (n, mrr) for owner, band, n, mrr in rows}


def overview_cells(user) -> dict:
    return {
        (row.owner_id, band): (cell.count, cell.mrr_cents)
        for row in health_overview(user).csms
        for band, cell in row.bands.items()
        if cell.count
    }


def reads(call) -> set[str]:
    """Where ``call``'s counts come from: the tally, a sum over the customers, or both."""
    with CaptureQueriesContext(connection) as queries:
        call()
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    return {name for name, marker in [("tally", TALLY), ("customers", SUMMED_CUSTOMERS)] if marker in sql}


def test_the_overview_reads_the_bands_per_csm_from_the_tally_for_someone_who_sees_everyone(org, book, monkeypatch):
    live = live_bands()
    assert overview_cells(org.leader_a) == overview_cells(org.admin) == live
    assert reads(lambda: health_overview(org.leader_a)) == reads(lambda: health_overview(org.admin)) == {"tally"}
    # the same overview, names, order and totals included, as when counted from the customers
    tallied = health_overview(org.leader_a)
    monkeypatch.setattr(book_tally, "kept", lambda: False)
    assert reads(lambda: health_overview(org.leader_a)) == {"customers"}
    counted = health_overview(org.leader_a)
    assert (tallied.csms, tallied.totals) == (counted.csms, counted.totals)
    assert [row.name for row in tallied.csms] == ["Beatriz Santos", "Lucas Almeida", ""]


def test_the_overview_follows_the_book_as_it_changes(org, book):
    services.customers_reassign(customers=book[:2], to_owner=org.csm_a2, actor=org.leader_a)
    Customer.objects.filter(pk=book[4].pk).update(health_band="red", mrr_cents=5)
    Customer.objects.filter(pk=book[5].pk).update(stage="churned")
    Customer.objects.filter(pk=book[6].pk).delete()

    assert overview_cells(org.leader_a) == live_bands()


def test_someone_who_does_not_see_everyone_counts_their_customers(org, book):
    CustomerFactory(owner=org.csm_b)  # team B's: team A's leader no longer sees every customer

    assert reads(lambda: health_overview(org.leader_a)) == {"customers"}
    assert reads(lambda: health_overview(org.csm_a)) == {"customers"}
    assert reads(lambda: health_overview(org.admin)) == {"tally"}
    everyone = live_bands()
    assert overview_cells(org.admin) == everyone
    assert overview_cells(org.leader_a) == {key: v for key, v in everyone.items() if key[0] != org.csm_b.pk}


@pytest.mark.parametrize(
    ("band", "owner"),
    [("", ""), ("red", ""), ("none", ""), ("green", ""), ("", "csm_a"), ("", "none"), ("red", "csm_a2")],
)
def test_the_health_lists_count_and_mrr_come_from_the_tally_equal_to_the_customers(org, book, band, owner):
    owner_param = "" if owner in ("", "none") else str(getattr(org, owner).pk)
    filters = HealthCustomerFilters(band=band, owner=owner_param or owner)
    customers = Customer.objects.exclude(stage="churned")
    if band:
        customers = customers.filter(health_band="" if band == NO_SCORE else band)
    if owner == "none":
        customers = customers.filter(owner__isnull=True)
    elif owner:
        customers = customers.filter(owner_id=int(owner_param))
    live = customers.aggregate(n=Count("pk"), mrr=Sum("mrr_cents"))

    for person in (org.leader_a, org.admin):
        with CaptureQueriesContext(connection) as queries:
            data = health_customers(person, filters, page_number=1)
        assert (data.page.paginator.count, data.mrr_cents) == (live["n"], live["mrr"] or 0)
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        assert TALLY in sql
        assert SUMMED_CUSTOMERS not in sql
    # a CSM counts their own
    assert reads(lambda: health_customers(org.csm_a, filters, page_number=1)) == {"customers"}


def test_the_leaders_pages_read_the_tally_in_the_same_number_of_queries(org, book, client_for, monkeypatch):
    client = client_for(org.leader_a)
    client.get("/health/")
    pages = ["/health/", "/health/customers/?band=red", f"/health/customers/?owner={org.csm_a.pk}"]

    tallied = {}
    for url in pages:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        assert TALLY in sql
        assert SUMMED_CUSTOMERS not in sql
        tallied[url] = (len(queries.captured_queries), response)
    monkeypatch.setattr(book_tally, "kept", lambda: False)
    for url in pages:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert SUMMED_CUSTOMERS in " ".join(q["sql"] for q in queries.captured_queries)
        queries_then, page = tallied[url]
        assert len(queries.captured_queries) == queries_then
        if "customers" in url:
            assert page.context["data"].mrr_cents == response.context["data"].mrr_cents
            assert page.context["data"].page.paginator.count == response.context["data"].page.paginator.count
        else:
            assert page.context["overview"].csms == response.context["overview"].csms
