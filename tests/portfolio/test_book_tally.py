"""The customer book's tally (``CustomerBookTally``): kept by the database as customers are written, moved and
deleted, equal to a live count of the customers after each; the command that checks and rebuilds it; and two
writers moving customers of the same cell at once."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from core import request_memo
from portfolio import book_tally, selectors, services
from portfolio.models import Customer, CustomerBookTally
from portfolio.selectors import PortfolioFilters
from tests.portfolio.factories import CustomerFactory, subscribe

pytestmark = pytest.mark.django_db


def equal_to_the_customers() -> bool:
    """The tally's cells are those of a live GROUP BY of the customers, and the check finds no difference."""
    return book_tally.stored_counts() == book_tally.live_counts() and book_tally.check().ok


@pytest.fixture
def customers(org):
    """Customers of two CSMs of team A and of none (team A's by its ISM, so team A's leader sees every customer),
    in several segments and service models, some paying."""
    made = [
        CustomerFactory(owner=org.csm_a, segment="smb", service_model="high"),
        CustomerFactory(owner=org.csm_a, segment="smb", service_model="high"),
        CustomerFactory(owner=org.csm_a, segment="mid", service_model="low"),
        CustomerFactory(owner=org.csm_a2, segment="enterprise", service_model="tech"),
        CustomerFactory(owner=None, implementation_manager=org.ism_a, segment="smb", service_model="low"),
        CustomerFactory(owner=None, implementation_manager=org.ism_a, segment="smb", service_model="low"),
    ]
    for customer, amount in zip(made, [100_000, 250_000, 40_000, 0, 75_000, 12_345], strict=True):
        if amount:
            subscribe(customer, amount_cents=amount)
    return made


def test_the_tally_counts_the_customers_as_they_are_created(customers, org):
    assert equal_to_the_customers()
    cells = book_tally.stored_counts()
    # the two without a CSM share a cell (no owner is one key, not two), with their MRR summed
    assert cells[(None, "onboarding", "low", "smb", "")] == (2, 75_000 + 12_345)
    assert cells[(org.csm_a.pk, "onboarding", "high", "smb", "")] == (2, 350_000)
    assert CustomerBookTally.objects.filter(owner_id__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("stage", "ongoing"),
        ("service_model", "tech"),
        ("segment", "enterprise"),
        ("health_band", "red"),
        ("mrr_cents", 999_999),
    ],
)
def test_an_update_of_each_tallied_column_moves_its_customers(customers, column, value):
    Customer.objects.filter(pk__in=[customers[0].pk, customers[4].pk]).update(**{column: value})

    assert equal_to_the_customers()


def test_a_statement_moving_customers_both_ways_between_cells_nets_out(customers):
    # one UPDATE swaps two segments: smb ↔ mid, the MRR going with each customer
    from django.db.models import Case, Value, When

    Customer.objects.update(
        segment=Case(When(segment="smb", then=Value("mid")), When(segment="mid", then=Value("smb")), default="segment")
    )
    assert equal_to_the_customers()
    # and back, with a band for some and an MRR change for others in the same statement
    Customer.objects.filter(pk__in=[c.pk for c in customers[:3]]).update(segment="smb", health_band="green")
    Customer.objects.filter(owner__isnull=True).update(mrr_cents=1)
    assert equal_to_the_customers()


def test_a_bulk_reassignment_moves_every_customer_to_the_new_csm(customers, org):
    more = [CustomerFactory(owner=org.csm_a, segment="smb", service_model="high") for _ in range(20)]
    subscribe(more[0], amount_cents=30_000)

    services.customers_reassign(customers=[*customers[:3], *more], to_owner=org.csm_a2, actor=org.leader_a)
    assert equal_to_the_customers()
    assert not [cell for cell in book_tally.stored_counts() if cell[0] == org.csm_a.pk]
    # a bulk update of many rows at once, to no CSM and back
    Customer.objects.filter(owner=org.csm_a2).update(owner=None)
    assert equal_to_the_customers()
    Customer.objects.filter(owner__isnull=True).update(owner=org.csm_b)
    assert equal_to_the_customers()
    assert {cell[0] for cell in book_tally.stored_counts()} == {org.csm_b.pk}


def test_an_update_that_moves_no_tallied_column_writes_no_cell(customers):
    def versions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, xmin::text FROM portfolio_customerbooktally ORDER BY id")
            return cursor.fetchall()

    before = versions()
    Customer.objects.update(name="Outro nome", licences=5)
    Customer.objects.filter(pk=customers[0].pk).update(mrr_cents=customers[0].mrr_cents)  # the same MRR
    customers[1].refresh_from_db()
    customers[1].save()  # every column written, none changed

    assert versions() == before
    assert equal_to_the_customers()


def test_deleted_customers_leave_their_cells(customers, org):
    Customer.objects.filter(pk__in=[customers[0].pk, customers[4].pk]).delete()
    assert equal_to_the_customers()
    Customer.objects.filter(owner=org.csm_a).delete()
    assert equal_to_the_customers()
    assert org.csm_a.pk not in {cell[0] for cell in book_tally.stored_counts()}
    # the emptied cells stay, at zero, until a rebuild
    assert CustomerBookTally.objects.filter(owner_id=org.csm_a.pk, customers=0, mrr_cents=0).exists()
    book_tally.rebuild()
    assert not CustomerBookTally.objects.filter(customers=0).exists()
    assert equal_to_the_customers()


def test_a_truncate_of_the_customers_empties_the_tally(customers):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's pending foreign key checks, done before
        cursor.execute("TRUNCATE portfolio_customer CASCADE")

    assert not CustomerBookTally.objects.exists()
    CustomerFactory(owner=None)
    assert equal_to_the_customers()


def test_the_check_names_each_difference_and_the_rebuild_mends_them(customers, org, capsys):
    call_command("book_tally", "--check")
    cells = len(book_tally.live_counts())
    assert f"The tally equals the customers: {cells} cells" in capsys.readouterr().out

    CustomerBookTally.objects.filter(owner_id=org.csm_a2.pk).update(customers=7)
    CustomerBookTally.objects.filter(owner_id__isnull=True).delete()
    report = book_tally.check()
    assert report.differences == [
        "CSM none onboarding low smb none: (2, 87345) customers, MRR; tally (0, 0)",
        f"CSM {org.csm_a2.pk} onboarding tech enterprise none: (1, 0) customers, MRR; tally (7, 0)",
    ]
    with pytest.raises(CommandError, match="differs from the customers in 2 cells"):
        call_command("book_tally", "--check")

    call_command("book_tally")
    call_command("book_tally", "--check")
    out = capsys.readouterr().out
    assert f"Rebuilt the tally: {cells} cells" in out
    assert f"The tally equals the customers: {cells} cells" in out
    assert equal_to_the_customers()


@pytest.mark.django_db(transaction=True)
def test_two_writers_moving_customers_into_the_same_cell_at_once_both_count(org):
    # given two customers of one cell, and a cell neither is in yet
    import psycopg

    first, second = (CustomerFactory(owner=org.csm_a, segment="smb", service_model="high") for _ in range(2))
    settings = connection.settings_dict
    url = f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    move = "UPDATE portfolio_customer SET segment = 'enterprise', mrr_cents = %s WHERE id = %s"

    # when one transaction moves the first to the new cell and, before it commits, another moves the second there
    with psycopg.connect(url) as one, psycopg.connect(url) as other:
        one.execute(move, [10_000, first.pk])
        moved = threading.Event()

        def move_second() -> None:
            other.execute(move, [20_000, second.pk])
            other.commit()
            moved.set()

        worker = threading.Thread(target=move_second)
        worker.start()
        # the second waits on the cells the first moved until it commits
        assert not moved.wait(timeout=1.0)
        one.commit()
        worker.join(timeout=10)
        assert moved.is_set()

    # then the new cell holds both, and the old one neither
    assert equal_to_the_customers()
    assert book_tally.stored_counts() == {(org.csm_a.pk, "onboarding", "high", "enterprise", ""): (2, 30_000)}


# --- Who reads it: the portfolio's totals ---------------------------------------------------------------------

SUMMED_CUSTOMERS = 'SUM("portfolio_customer"."mrr_cents")'  # a count of the customers' MRR
TALLY = "portfolio_customerbooktally"


def totals_read(user, filters) -> tuple[dict, set[str]]:
    """``portfolio_totals`` for ``user`` within a request, as the page asks, and where its figures came from."""
    with request_memo.request_scope(), CaptureQueriesContext(connection) as queries:
        totals = selectors.portfolio_totals(user, filters)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    return totals, {name for name, marker in [("tally", TALLY), ("customers", SUMMED_CUSTOMERS)] if marker in sql}


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"stage": "ongoing"},
        {"stage": "churned"},
        {"service_model": "low"},
        {"segment": "smb", "service_model": "high"},
        {"owner": "csm_a"},
        {"owner": "csm_a", "health": "red"},
        {"health": "none"},
        {"health": "green", "segment": "enterprise", "stage": "onboarding", "service_model": "tech"},
    ],
)
def test_the_portfolio_totals_of_someone_who_sees_everyone_come_from_the_tally(customers, org, filters):
    # given a book in several stages and bands
    Customer.objects.filter(pk__in=[customers[1].pk, customers[4].pk]).update(stage="ongoing", health_band="red")
    Customer.objects.filter(pk=customers[3].pk).update(health_band="green")
    Customer.objects.filter(pk=customers[5].pk).update(stage="churned")
    if "owner" in filters:
        filters = {**filters, "owner": getattr(org, filters["owner"]).pk}
    lookups = {("owner_id" if k == "owner" else "health_band" if k == "health" else k): v for k, v in filters.items()}
    if lookups.get("health_band") == "none":
        lookups["health_band"] = ""
    live = Customer.objects.filter(**lookups).aggregate(count=Count("pk"), mrr_cents=Sum("mrr_cents"))

    for person in (org.leader_a, org.admin):
        assert totals_read(person, PortfolioFilters(**filters)) == (live, {"tally"})
    # a search is no column of the tally: the customers are counted
    assert totals_read(org.leader_a, PortfolioFilters(q="Cliente", **filters)) == (live, {"customers"})


def test_someone_who_does_not_see_everyone_counts_the_customers_for_the_totals(customers, org):
    CustomerFactory(owner=org.csm_b)  # team B's: team A's leader no longer sees every customer

    team_a = Customer.objects.exclude(owner=org.csm_b).aggregate(count=Count("pk"), mrr_cents=Sum("mrr_cents"))
    assert totals_read(org.leader_a, PortfolioFilters()) == (team_a, {"customers"})
    assert totals_read(org.csm_b, PortfolioFilters())[1] == {"customers"}
    assert totals_read(org.admin, PortfolioFilters()) == (
        Customer.objects.aggregate(count=Count("pk"), mrr_cents=Sum("mrr_cents")),
        {"tally"},
    )


def test_the_leaders_portfolio_page_shows_the_tallied_totals_in_the_same_number_of_queries(
    customers, org, client_for, monkeypatch
):
    client = client_for(org.leader_a)
    client.get("/portfolio/")
    urls = ["/portfolio/", "/portfolio/?segment=smb", f"/portfolio/?owner={org.csm_a.pk}&service_model=high"]

    tallied = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        assert TALLY in sql
        assert SUMMED_CUSTOMERS not in sql
        tallied[url] = (len(queries.captured_queries), response.context["totals"])
    monkeypatch.setattr(book_tally, "kept", lambda: False)
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert SUMMED_CUSTOMERS in " ".join(q["sql"] for q in queries.captured_queries)
        assert tallied[url] == (len(queries.captured_queries), response.context["totals"])
        assert response.context["page"].paginator.count == response.context["totals"]["count"]


def test_no_customer_matching_totals_no_mrr_as_when_counted(customers, org):
    Customer.objects.filter(segment="enterprise").delete()  # its cell stays, at zero

    assert totals_read(org.leader_a, PortfolioFilters(segment="enterprise")) == (
        {"count": 0, "mrr_cents": None},
        {"tally"},
    )


def test_the_nightly_mend_leaves_agreeing_tallies_alone_and_rebuilds_one_that_differs(customers, org, caplog):
    from portfolio.tasks import tallies_mend

    agreeing = tallies_mend.delay().get()
    assert [(r["tally"], r["differences"], r["rebuilt"]) for r in agreeing] == [
        ("first values", 0, False),
        ("customer book", 0, False),
    ]

    # when a restore skipped the triggers and left a cell wrong
    CustomerBookTally.objects.filter(owner_id=org.csm_a2.pk).update(customers=7)
    with caplog.at_level("ERROR", logger="core.tally"):
        mended = tallies_mend.delay().get()

    # then the night logs it as an error and rebuilds the tally
    assert [(r["tally"], r["differences"], r["rebuilt"]) for r in mended] == [
        ("first values", 0, False),
        ("customer book", 1, True),
    ]
    logged = [r for r in caplog.records if r.name == "core.tally"]
    assert [(r.levelname, r.message, r.tally, r.differences) for r in logged] == [
        ("ERROR", "tally differs from its rows; rebuilt", "customer book", 1)
    ]
    assert logged[0].first == [
        f"CSM {org.csm_a2.pk} onboarding tech enterprise none: (1, 0) customers, MRR; tally (7, 0)"
    ]
    assert equal_to_the_customers()


def test_the_nightly_mends_are_on_the_beat_after_the_health_run(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    health_run = schedule["health.scores_recompute"]["schedule"]

    for key, task in (
        ("portfolio.tallies_mend", "portfolio.tasks.tallies_mend"),
        ("health.band_tally_mend", "health.tasks.band_tally_mend"),
    ):
        entry = schedule[key]
        assert entry["task"] == task
        assert settings.CELERY_TASK_ROUTES[task]["queue"].endswith(".nightly")
        assert min(entry["schedule"].hour) > min(health_run.hour)
