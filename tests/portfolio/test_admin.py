import pytest

from portfolio.models import ChurnCategory, ServiceModelPolicy
from tests.factories import UserFactory
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))
    return client


def test_admin_manages_the_churn_taxonomy(staff_client):
    category = ChurnCategory.objects.get(code="price")
    page = staff_client.get(f"/admin/portfolio/churncategory/{category.pk}/change/")
    assert page.status_code == 200
    assert "Corte de orçamento" in page.text


def test_admin_edits_the_review_cadence(staff_client):
    policy = ServiceModelPolicy.objects.get(service_model="high")
    assert staff_client.get(f"/admin/portfolio/servicemodelpolicy/{policy.pk}/change/").status_code == 200


def test_customers_are_read_only_in_the_admin(staff_client):
    customer = CustomerFactory()
    assert staff_client.get("/admin/portfolio/customer/").status_code == 200
    response = staff_client.post(f"/admin/portfolio/customer/{customer.pk}/change/", {"name": "Outro nome"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name != "Outro nome"
