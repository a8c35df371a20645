"""The CSV import of usage events, and licences per customer."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core import clock
from health.models import UsageEvent
from health.selectors import licences_by_customer
from portfolio import services as portfolio_services
from portfolio.models import Customer
from tests.portfolio.factories import CustomerFactory, subscribe

pytestmark = pytest.mark.django_db

URL = "/usage/import/"


@pytest.fixture(autouse=True)
def frozen():
    with clock.at(datetime(2026, 12, 2, 15, tzinfo=UTC)):
        yield


def upload(client, text: str):
    return client.post(URL, {"file": SimpleUploadedFile("uso.csv", text.encode(), content_type="text/csv")})


GOOD = (
    "event_id;customer_external_id;user_id;event;timestamp;properties\n"
    "e-1;crm-1;u-1;login;2026-12-01T10:00:00-03:00;\n"
    'e-2;crm-1;u-2;report_exported;2026-12-01T11:00:00-03:00;"{""format"": ""pdf""}"\n'
)


def test_a_good_file_is_previewed_then_stored_and_a_second_import_changes_nothing(org, client_for, committed):
    customer = CustomerFactory(owner=org.csm_a, external_id="crm-1")
    client = client_for(org.admin)

    preview = upload(client, GOOD)
    assert preview.status_code == 200
    assert "Import all rows" in preview.text or "Importar todas as linhas" in preview.text
    assert not UsageEvent.objects.exists()

    with committed():
        done = client.post(URL, {"confirm": "1"})
    assert done.status_code == 302
    assert set(UsageEvent.objects.values_list("source_id", "customer_id")) == {
        ("e-1", customer.pk),
        ("e-2", customer.pk),
    }
    assert UsageEvent.objects.get(source_id="e-2").properties == {"format": "pdf"}
    assert customer.usage_days.get().events == 2

    again = upload(client, GOOD)
    assert again.status_code == 200
    assert again.context["report"].count("unchanged") == 2


def test_a_file_with_a_bad_row_reports_it_by_line_and_stores_nothing(org, client_for):
    CustomerFactory(owner=org.csm_a, external_id="crm-1")
    CustomerFactory(owner=org.csm_b, external_id="crm-b")
    text = (
        GOOD
        + "e-3;crm-1;u-1;login;2026-12-01 10:00;\n"
        + "e-4;crm-nada;u-1;login;2026-12-01T10:00:00Z;\n"
        + "e-5;crm-1;u-1;login;2026-12-01T10:00:00Z;{x\n"
    )

    response = upload(client_for(org.admin), text)

    assert response.status_code == 422
    report = response.context["report"]
    assert [(r.line, r.action) for r in report.rows] == [
        (2, "create"), (3, "create"), (4, "error"), (5, "error"), (6, "error")
    ]  # fmt: skip
    assert report.rows[2].errors[0].startswith("timestamp: ")
    assert report.rows[3].errors[0].startswith("customer_external_id: ")
    assert report.rows[4].errors[0].startswith("properties: ")
    assert not UsageEvent.objects.exists()
    # a confirm without a good preview imports nothing
    assert client_for(org.admin).post(URL, {"confirm": "1"}).status_code == 302
    assert not UsageEvent.objects.exists()


def test_a_leader_imports_for_their_team_only_and_a_csm_cannot_import(org, client_for):
    CustomerFactory(owner=org.csm_b, external_id="crm-1")
    report = upload(client_for(org.leader_a), GOOD).context["report"]
    assert all(r.action == "error" for r in report.rows)
    assert client_for(org.csm_a).get(URL).status_code == 403


def test_licences_come_from_the_customer_or_the_running_subscriptions_seats(org):
    set_here = CustomerFactory(owner=org.csm_a, licences=40)
    subscribe(set_here, seats=10)
    by_seats = CustomerFactory(owner=org.csm_a)
    subscribe(by_seats, seats=10)
    ended = subscribe(by_seats, seats=5, product="Add-on")
    portfolio_services.subscription_cancel(subscription=ended, actor=None, end_date=ended.start_date)
    changed = subscribe(by_seats, seats=7, product="Módulo BI")
    portfolio_services.subscription_change(
        subscription=changed, actor=None, effective_date=changed.start_date, amount_cents=120_000
    )
    unknown = CustomerFactory(owner=org.csm_a)
    subscribe(unknown)

    assert licences_by_customer([set_here.pk, by_seats.pk, unknown.pk]) == {
        set_here.pk: 40,
        by_seats.pk: 17,
        unknown.pk: None,
    }
    assert licences_by_customer([]) == {}


def test_seats_and_licences_are_in_the_api(org, api_for):
    client = api_for(org.admin)
    created = client.post(
        "/api/v1/customers/", {"name": "Padaria Pão Quente", "licences": 25, "owner": org.csm_a.pk}, format="json"
    )
    assert created.status_code == 201, created.json()
    customer_id = created.json()["id"]
    assert client.get(f"/api/v1/customers/{customer_id}/").json()["licences"] == 25
    subscription = client.post(
        "/api/v1/subscriptions/",
        {
            "customer": customer_id,
            "product": "Leme CRM",
            "amount_cents": 10_000,
            "start_date": "2026-12-01",
            "seats": 12,
        },
        format="json",
    )
    assert subscription.status_code == 201, subscription.json()
    assert client.get(f"/api/v1/subscriptions/{subscription.json()['id']}/").json()["seats"] == 12
    assert client.patch(f"/api/v1/customers/{customer_id}/", {"licences": 30}, format="json").status_code == 200
    assert licences_by_customer([customer_id]) == {customer_id: 30}


def test_the_new_customer_form_takes_licences(org, client_for):
    response = client_for(org.ism_a).post(
        "/customers/new/",
        {
            "name": "Academia Corpo em Forma",
            "segment": "smb",
            "plan_tier": "pro",
            "service_model": "low",
            "implementation_manager": org.ism_a.pk,
            "owner": org.csm_a.pk,
            "start_date": "2026-12-01",
            "licences": "35",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    customer = Customer.objects.get(name="Academia Corpo em Forma")
    assert customer.licences == 35
    assert licences_by_customer([customer.pk]) == {customer.pk: 35}
