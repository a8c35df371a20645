"""Money and dates that come in from outside stay within core.bounds: NaN or infinite amounts, and dates such
as 0001-01-01 (which made ``mrr_recompute --check`` crash on "year 0"), are refused field by field by the
import, the API and the forms, never stored and never a 500."""

import pytest

from portfolio.imports import import_run
from portfolio.models import Customer, Subscription, Task
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
SUBSCRIPTIONS = "external_id;customer_external_id;product;amount;start_date\n"


@pytest.fixture
def customer(org):
    return CustomerFactory(owner=org.csm_a, external_id="c-1")


@pytest.mark.parametrize("amount", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "1e30", "9" * 40])
def test_the_import_refuses_amounts_that_are_not_money(org, customer, amount):
    text = f"{SUBSCRIPTIONS}s-1;c-1;Leme CRM;{amount};01/03/2025\n"

    report = import_run(kind="subscriptions", text=text, actor=org.leader_a)

    assert not report.ok
    assert "amount" in " ".join(report.rows[0].errors)
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "01/01/0001", "31/12/1899", "9999-12-31", "2101-01-01"])
def test_the_import_refuses_dates_outside_the_range(org, customer, day):
    subscriptions = f"{SUBSCRIPTIONS}s-1;c-1;Leme CRM;100,00;{day}\n"
    customers = f"external_id;name;renewal_date\nc-2;Padaria;{day}\n"

    subscription_report = import_run(kind="subscriptions", text=subscriptions, actor=org.leader_a)
    customer_report = import_run(kind="customers", text=customers, actor=org.leader_a)

    assert "start_date" in " ".join(subscription_report.rows[0].errors)
    assert "renewal_date" in " ".join(customer_report.rows[0].errors)


def test_the_import_still_takes_ordinary_amounts_and_dates(org, customer):
    text = f"{SUBSCRIPTIONS}s-1;c-1;Leme CRM;1.234,56;01/03/2025\n"

    import_run(kind="subscriptions", text=text, actor=org.leader_a, commit=True)

    assert Subscription.objects.get().amount_cents == 123_456


@pytest.mark.parametrize("day", ["0001-01-01", "1900-01-01", "9999-12-31"])
def test_the_api_refuses_dates_outside_the_range(org, customer, api_for, day):
    api = api_for(org.leader_a)

    subscription = api.post(
        f"{API}/subscriptions/",
        {"customer": customer.pk, "product": "Leme CRM", "amount_cents": 100, "start_date": day},
        format="json",
    )
    new_customer = api.post(
        f"{API}/customers/",
        {"name": "Padaria", "implementation_manager": org.ism_a.pk, "start_date": day},
        format="json",
    )
    task = api.post(f"{API}/tasks/", {"customer": customer.pk, "title": "Ligar", "due_date": day}, format="json")
    activity = api.post(
        f"{API}/activities/",
        {"customer": customer.pk, "kind": "note", "title": "Nota", "happened_at": f"{day}T10:00:00Z"},
        format="json",
    )

    assert (subscription.status_code, list(subscription.json())) == (400, ["start_date"])
    assert (new_customer.status_code, list(new_customer.json())) == (400, ["start_date"])
    assert (task.status_code, list(task.json())) == (400, ["due_date"])
    assert (activity.status_code, list(activity.json())) == (400, ["happened_at"])
    assert not Subscription.objects.exists()
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e30"])
def test_the_api_refuses_amounts_that_are_not_money(org, customer, api_for, amount):
    response = api_for(org.leader_a).post(
        f"{API}/subscriptions/",
        {"customer": customer.pk, "product": "Leme CRM", "amount_cents": amount, "start_date": "2025-01-01"},
        format="json",
    )

    assert (response.status_code, list(response.json())) == (400, ["amount_cents"])


def test_a_form_refuses_a_date_outside_the_range(org, customer, client_for):
    response = client_for(org.csm_a).post(
        f"/customers/{customer.pk}/tasks/", {"title": "Ligar", "due_date": "0001-01-01", "owner": org.csm_a.pk}
    )

    assert response.status_code == 422
    assert "due_date" in response.context["task_form"].errors
    assert not Task.objects.filter(title="Ligar").exists()


def test_a_form_refuses_an_amount_beyond_the_bound(org, customer, client_for):
    response = client_for(org.csm_a).post(
        f"/customers/{customer.pk}/opportunities/",
        {"kind": "upsell", "source": "proactive", "title": "Mais usuários", "mrr": "1" + "0" * 15},
    )

    assert response.status_code == 422
    assert "mrr" in response.context["opportunity_form"].errors
