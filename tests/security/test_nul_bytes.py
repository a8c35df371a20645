"""A NUL character is refused with a clear 4xx wherever it comes in: PostgreSQL cannot store one in text, so
before config.middleware.RejectNulMiddleware it surfaced as a 500 from deep inside a query."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portfolio.models import Customer
from surveys.models import Response
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery

pytestmark = pytest.mark.django_db


def test_a_survey_comment_with_a_nul_is_refused_and_records_nothing(org):
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    _delivery, token = make_delivery(make_campaign("nps"), contact=contact)

    response = Client().post(f"/s/{token}/", {"score": "9", "comment": "ótimo\x00"})

    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert not Response.objects.exists()


def test_a_nul_in_a_query_string_is_a_400_not_a_server_error(org, client_for):
    customer = CustomerFactory(owner=org.csm_a)

    response = client_for(org.csm_a).get(f"/customers/{customer.pk}/?kind=%00")

    assert response.status_code == 400


def test_the_api_answers_a_nul_in_a_filter_with_json(org, api_for):
    response = api_for(org.csm_a).get("/api/v1/customers/?search=a%00b")

    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/customers/", {"name": "Padaria\x00", "external_id": "c-1"}),
        # a slug looked up in the database: it reached the query (a 500) before the parser refused it
        ("/api/v1/churn-requests/", {"reason": "budget\x00cut"}),
        ("/api/v1/tasks/", {"title": "Ligar", "notes\x00": "x"}),
    ],
)
def test_a_nul_anywhere_in_an_api_body_is_a_400(org, api_for, url, body):
    response = api_for(org.leader_a).post(url, body, format="json")

    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_an_import_file_with_nul_bytes_is_refused_at_the_preview(org, client_for):
    client = client_for(org.leader_a)
    text = f"external_id;name;owner_email\nc-1;Padaria\x00;{org.csm_a.email}\n"
    upload = SimpleUploadedFile("clientes.csv", text.encode(), content_type="text/csv")

    preview = client.post("/portfolio/import/", {"kind": "customers", "file": upload})
    commit = client.post("/portfolio/import/", {"confirm": "1"})

    assert preview.status_code == 422
    assert "file" in preview.context["form"].errors
    # Nothing was kept to confirm: the commit step sends the person back to upload the file.
    assert commit.status_code == 302
    assert not Customer.objects.exists()
