"""After a POST, Leme goes back where the form said only when that stays on Leme (issue: open redirect)."""

import pytest

from portfolio import services
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ELSEWHERE = ["https://evil.example/", "//evil.example/login", "https:evil.example", "javascript:alert(1)"]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_completing_a_task_never_leaves_leme(org, client_for, target):
    customer = CustomerFactory(owner=org.csm_a)
    task = services.task_create(customer=customer, owner=org.csm_a, title="Ligar", due_date=customer.start_date)

    response = client_for(org.csm_a).post(f"/tasks/{task.pk}/complete/", {"next": target})

    assert (response.status_code, response["Location"]) == (302, f"/customers/{customer.pk}/")


@pytest.mark.parametrize("target", ELSEWHERE)
def test_bulk_reassignment_never_leaves_leme(org, client_for, target):
    response = client_for(org.leader_a).post("/portfolio/reassign/", {"next": target})

    assert (response.status_code, response["Location"]) == (302, "/portfolio/")


def test_a_next_inside_leme_is_followed(org, client_for):
    customer = CustomerFactory(owner=org.csm_a)
    task = services.task_create(customer=customer, owner=org.csm_a, title="Ligar", due_date=customer.start_date)

    response = client_for(org.csm_a).post(f"/tasks/{task.pk}/complete/", {"next": "/?done=1"})

    assert (response.status_code, response["Location"]) == (302, "/?done=1")
