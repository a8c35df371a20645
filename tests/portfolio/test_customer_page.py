"""The customer page's inline actions and its HTML: counters that follow, ids that are unique and that
aria-describedby finds, a filtered timeline that says what it did not find."""

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from portfolio import services
from portfolio.models import Task, TaskStatus
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db


class Ids(HTMLParser):
    """Every id in a page, and every id an aria-describedby names."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.described_by: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids[attributes["id"]] += 1
        self.described_by += (attributes.get("aria-describedby") or "").split()

    @property
    def duplicated(self) -> dict[str, int]:
        return {i: n for i, n in self.ids.items() if n > 1}

    @property
    def missing(self) -> list[str]:
        return [i for i in self.described_by if i not in self.ids]


@pytest.fixture
def customer(org):
    customer = CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a, implementation_manager=org.ism_a)
    for n in range(2):
        services.task_create(customer=customer, owner=org.csm_a, title=f"Ligar {n}", due_date=timezone.localdate())
    return customer


def test_the_customer_page_has_no_duplicate_ids(org, customer, client_for):
    client = client_for(org.csm_a)
    page = client.get(f"/customers/{customer.pk}/")

    assert page.status_code == 200
    ids = Ids(page.text)
    assert ids.duplicated == {}
    # the forms that share field names keep them apart, those the page asks for once their panel opens too
    task = Ids(client.get(f"/customers/{customer.pk}/tasks/", HTTP_HX_REQUEST="true").text)
    opportunity = Ids(client.get(f"/customers/{customer.pk}/opportunities/", HTTP_HX_REQUEST="true").text)
    assert {"id_activity_kind", "id_activity_title"} <= set(ids.ids)
    assert "id_task_title" in task.ids
    assert "id_opportunity_kind" in opportunity.ids
    assert not set(ids.ids) & set(task.ids)
    assert not set(ids.ids) & set(opportunity.ids)


def test_a_refused_form_describes_its_fields_by_ids_that_exist(org, customer, client_for):
    # when a churn request is sent without its reason and detail
    page = client_for(org.csm_a).post(f"/customers/{customer.pk}/churn/", {"kind": "voluntary"})

    # then the detail is described by its help and its error, and every described-by id is on the page
    assert page.status_code == 422
    ids = Ids(page.text)
    assert {"id_churn_detail_helptext", "id_churn_detail_error", "id_churn_reason_error"} <= set(ids.ids)
    assert "id_churn_detail_helptext" in ids.described_by
    assert ids.missing == []
    assert ids.duplicated == {}


def test_a_task_done_on_the_customer_page_updates_the_open_task_counter(org, customer, client_for):
    task = customer.tasks.order_by("pk").first()

    response = client_for(org.csm_a).post(f"/customers/{customer.pk}/tasks/{task.pk}/complete/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
    assert f'id="customer-task-{task.pk}"' in response.text
    assert '<span class="badge" id="open-task-count" hx-swap-oob="true">1</span>' in response.text


def test_a_task_done_without_javascript_goes_back_to_the_customer(org, customer, client_for):
    task = customer.tasks.order_by("pk").first()

    response = client_for(org.csm_a).post(f"/customers/{customer.pk}/tasks/{task.pk}/complete/")

    assert (response.status_code, response.url) == (302, f"/customers/{customer.pk}/")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE


def test_a_reader_cannot_mark_a_task_done_and_another_customers_task_is_not_found(org, customer, client_for):
    task = customer.tasks.order_by("pk").first()
    other = CustomerFactory(owner=org.csm_a)

    refused = client_for(org.viewer_a).post(f"/customers/{customer.pk}/tasks/{task.pk}/complete/")
    elsewhere = client_for(org.csm_a).post(f"/customers/{other.pk}/tasks/{task.pk}/complete/")

    assert (refused.status_code, elsewhere.status_code) == (403, 404)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_a_timeline_filter_that_finds_nothing_names_the_kind(org, customer, client_for):
    services.activity_log(customer=customer, kind="note", title="Nota interna", author=org.csm_a)
    client = client_for(org.csm_a)

    filtered = client.get(f"/customers/{customer.pk}/?partial=timeline&kind=meeting", HTTP_HX_REQUEST="true")
    everything = client.get(f"/customers/{customer.pk}/?partial=timeline", HTTP_HX_REQUEST="true")

    assert "Nenhum registro do tipo “reunião”." in filtered.text
    assert "Nada na linha do tempo" not in filtered.text
    assert "Nota interna" in everything.text
