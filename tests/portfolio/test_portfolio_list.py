"""The portfolio list's tools: select all matching the filters (and the bulk actions on that set), the CSV of
the filtered list, rows per page, and the timeline entry of every owner change."""

import csv
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.models import User
from playbooks.models import Run
from portfolio import services
from portfolio.models import Activity, ActivityKind, Customer
from tests.playbooks.factories import live_playbook, task_step
from tests.portfolio.factories import CustomerFactory, hand_off, subscribe

pytestmark = pytest.mark.django_db


def speak_english(*users) -> None:
    User.objects.filter(pk__in=[u.pk for u in users]).update(language="en")


@pytest.fixture
def crowd(org):
    """Team A: 27 high-touch customers of Lucas (more than a page) and 2 low-touch; team B: 1 high-touch."""
    high = CustomerFactory.create_batch(27, owner=org.csm_a, service_model="high")
    low = CustomerFactory.create_batch(2, owner=org.csm_a, service_model="low")
    theirs = CustomerFactory(owner=org.csm_b, service_model="high")
    return {"high": high, "low": low, "theirs": theirs}


# --- Select all matching -------------------------------------------------------------------------------------


def test_the_page_offers_every_customer_matching_with_the_count(org, crowd, client_for):
    speak_english(org.leader_a)
    client = client_for(org.leader_a)

    filtered = client.get("/portfolio/?service_model=high")
    one_page = client.get("/portfolio/?service_model=low")

    assert "Select all 27 customers matching" in filtered.text
    assert 'name="filters" value="service_model=high"' in filtered.text
    # everything already shows: nothing more to select
    assert "customers matching" not in one_page.text


def test_reassigning_all_matching_moves_the_filtered_set_computed_on_the_server(org, crowd, client_for):
    # given a leader who filtered high-touch and selected all 27 matching; the browser also posts an id of team B
    client = client_for(org.leader_a)

    # when she reassigns them
    response = client.post(
        "/portfolio/reassign/",
        {
            "to_owner": org.csm_a2.pk,
            "all_matching": "1",
            "filters": "service_model=high",
            "customers": [crowd["high"][0].pk, crowd["theirs"].pk],
        },
    )

    # then every high-touch customer of her team moves, not the low-touch ones, nor team B's
    assert response.status_code == 302
    moved = set(Customer.objects.filter(owner=org.csm_a2).values_list("pk", flat=True))
    assert moved == {c.pk for c in crowd["high"]}
    assert Customer.objects.get(pk=crowd["theirs"].pk).owner_id == org.csm_b.pk
    assert set(Customer.objects.filter(pk__in=[c.pk for c in crowd["low"]]).values_list("owner", flat=True)) == {
        org.csm_a.pk
    }


def test_all_matching_with_filters_outside_the_door_moves_nothing(org, crowd, client_for):
    # team B's CSM is no owner team A's leader may filter by: the filters do not validate
    response = client_for(org.leader_a).post(
        "/portfolio/reassign/",
        {"to_owner": org.csm_a2.pk, "all_matching": "1", "filters": f"owner={org.csm_b.pk}"},
        follow=True,
    )

    assert not Customer.objects.filter(owner=org.csm_a2).exists()
    assert [str(m) for m in response.context["messages"]] == ["Estes filtros não valem mais: filtre a lista de novo."]


def test_ticked_customers_of_another_team_refuse_the_whole_reassignment(org, crowd, client_for):
    client_for(org.leader_a).post(
        "/portfolio/reassign/", {"to_owner": org.csm_a2.pk, "customers": [crowd["high"][0].pk, crowd["theirs"].pk]}
    )

    assert not Customer.objects.filter(owner=org.csm_a2).exists()


def test_a_bulk_action_of_another_app_acts_on_all_matching_too(org, crowd, client_for):
    playbook = live_playbook(service_models=["low"], steps=[task_step(), {"kind": "wait", "days": 5}])

    response = client_for(org.leader_a).post(
        "/playbooks/start/",
        {
            "playbook": playbook.pk,
            "all_matching": "1",
            "filters": "service_model=low",
            "customers": [crowd["theirs"].pk],
        },
    )

    assert response.status_code == 302
    assert set(Run.objects.values_list("customer", flat=True)) == {c.pk for c in crowd["low"]}


def test_selecting_all_matching_adds_no_query_to_the_page(org, client_for, django_assert_num_queries):
    # the count it shows is the one the list's totals already make
    client = client_for(org.leader_a)
    CustomerFactory.create_batch(3, owner=org.csm_a)
    with CaptureQueriesContext(connection) as one_page:
        assert "data-all-matching" not in client.get("/portfolio/").text

    CustomerFactory.create_batch(25, owner=org.csm_a)
    with django_assert_num_queries(len(one_page.captured_queries)):
        response = client.get("/portfolio/")

    assert response.context["page"].paginator.num_pages == 2
    assert 'data-all-matching data-count="28"' in response.text


# --- Rows per page -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("asked", "shown"), [("", 25), ("50", 29), ("100", 29), ("7", 25)])
def test_rows_per_page_come_from_the_url(org, crowd, client_for, asked, shown):
    response = client_for(org.leader_a).get(f"/portfolio/?per_page={asked}")

    assert len(response.context["page"]) == shown


def test_the_page_links_and_the_sort_keep_the_rows_per_page(org, client_for):
    CustomerFactory.create_batch(55, owner=org.csm_a)

    response = client_for(org.leader_a).get("/portfolio/?per_page=50&sort=-name")

    assert len(response.context["page"]) == 50
    assert 'href="?per_page=50&amp;sort=-name&page=2"' in response.text
    assert 'href="?per_page=50&sort=mrr"' in response.text
    assert 'href="/portfolio/export/?sort=-name&amp;per_page=50"' in response.text
    assert '<option value="50" selected>' in response.text


# --- The CSV of the filtered list --------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_has_the_lists_filters_sort_and_door(org, client_for):
    speak_english(org.leader_a)
    small = CustomerFactory(name="Alfa Ltda", owner=org.csm_a, service_model="high", cnpj="11222333000181")
    big = CustomerFactory(name="Bravo Ltda", owner=org.csm_a2, service_model="high")
    CustomerFactory(name="Charlie Ltda", owner=org.csm_a, service_model="low")
    CustomerFactory(name="Delta Ltda", owner=org.csm_b, service_model="high")
    subscribe(small, amount_cents=150_050)
    subscribe(big, amount_cents=900_000)

    rows = read_csv(client_for(org.leader_a).get("/portfolio/export/?service_model=high&sort=-mrr"))

    assert rows[0][:3] == ["Customer", "CNPJ", "External id"]
    assert [r[0] for r in rows[1:]] == ["Bravo Ltda", "Alfa Ltda"]
    alfa = dict(zip(rows[0], rows[2], strict=True))
    assert (alfa["CNPJ"], alfa["CSM"], alfa["MRR"], alfa["Stage"]) == (
        "11222333000181",
        "Lucas Almeida",
        "1500.50",
        "Onboarding",
    )


def test_the_csv_cells_are_safe_in_a_spreadsheet(org, client_for):
    CustomerFactory(name='=HYPERLINK("http://x.example","ver")', owner=org.csm_a)

    rows = read_csv(client_for(org.csm_a).get("/portfolio/export/"))

    assert rows[1][0] == '\'=HYPERLINK("http://x.example","ver")'


def test_the_csv_is_one_query_for_its_rows_however_many(org, client_for, django_assert_max_num_queries):
    client = client_for(org.leader_a)
    CustomerFactory.create_batch(2, owner=org.csm_a)
    with django_assert_max_num_queries(10) as few:
        assert len(read_csv(client.get("/portfolio/export/"))) == 3
    CustomerFactory.create_batch(20, owner=org.csm_a2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(read_csv(client.get("/portfolio/export/"))) == 23


# --- Every owner change on the timeline ----------------------------------------------------------------------------


def owner_entries(customer) -> list[tuple[str, dict]]:
    return list(
        Activity.objects.filter(customer=customer, kind=ActivityKind.OWNER_CHANGE)
        .order_by("pk")
        .values_list("title", "data")
    )


def test_a_reassignment_writes_one_owner_entry_per_customer(org):
    a, b = CustomerFactory.create_batch(2, owner=org.csm_a)

    with translation.override("pt-br"):
        services.customers_reassign(customers=[a, b], to_owner=org.csm_a2, actor=org.leader_a, note="Férias da Ana")

    for customer in (a, b):
        assert owner_entries(customer) == [
            (
                "Responsável: Lucas Almeida → Beatriz Santos",
                {"from": org.csm_a.pk, "to": org.csm_a2.pk, "by_handoff": False},
            )
        ]
    assert Activity.objects.get(customer=a, kind=ActivityKind.OWNER_CHANGE).body == "Férias da Ana"


def test_a_handoff_to_another_csm_than_planned_writes_the_hand_over_on_the_timeline(org):
    customer = CustomerFactory(owner=org.csm_a, implementation_manager=org.ism_a)

    with translation.override("pt-br"):
        hand_off(customer, org.csm_a2, actor=org.ism_a)

    assert owner_entries(customer) == [
        (
            "Responsável: Lucas Almeida → Beatriz Santos (passagem de bastão)",
            {"from": org.csm_a.pk, "to": org.csm_a2.pk, "by_handoff": True},
        )
    ]
    assert Activity.objects.filter(customer=customer, kind=ActivityKind.HANDOFF).count() == 1


def test_a_handoff_to_the_planned_csm_is_no_owner_change(org):
    customer = CustomerFactory(owner=org.csm_a, implementation_manager=org.ism_a)

    hand_off(customer, org.csm_a, actor=org.ism_a)

    assert owner_entries(customer) == []
