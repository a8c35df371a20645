"""Closing a detractor's loop from the customer page: the CSM says whom the call was with, and reads that the
loop was closed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys import answers
from surveys.models import Response
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def detractor(org, django_capture_on_commit_callbacks):
    """Ana answered NPS 3 at Padaria Pão Dourado five hours ago; Bruno works there too."""
    customer = CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a)
    ana = ContactFactory(customer=customer, name="Ana Souza")
    bruno = ContactFactory(customer=customer, name="Bruno Lima")
    delivery, _ = make_delivery(make_campaign("nps"), contact=ana)
    with django_capture_on_commit_callbacks(execute=True):
        response = answers.answer_record(delivery=delivery, score=3, now=timezone.now() - timedelta(hours=5))
    return customer, ana, bruno, response


def log_call(client, customer, contact, django_capture_on_commit_callbacks, **headers):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            f"/customers/{customer.pk}/activities/",
            {"kind": "call", "title": "Ligação de retorno", "contact": contact.pk},
            follow=not headers,
            **headers,
        )


def test_the_log_form_offers_the_customers_contacts(org, client_for, detractor):
    customer, ana, bruno, _ = detractor
    page = client_for(org.csm_a).get(f"/customers/{customer.pk}/")
    assert f'<option value="{ana.pk}">Ana Souza</option>' in page.text
    assert f'<option value="{bruno.pk}">Bruno Lima</option>' in page.text


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_call_with_the_detractor_closes_the_loop_and_says_so(
    org, client_for, detractor, htmx, django_capture_on_commit_callbacks
):
    customer, ana, _, response = detractor
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    page = log_call(client_for(org.csm_a), customer, ana, django_capture_on_commit_callbacks, **headers)
    assert page.status_code == 200
    assert "Ciclo fechado: a resposta NPS 3 de Ana Souza" in page.text
    assert "com Ana Souza" in page.text  # the timeline entry names whom the call was with
    response.refresh_from_db()
    assert response.loop_closed_at is not None


def test_a_call_with_another_contact_leaves_the_loop_open_and_says_nothing_of_it(
    org, client_for, detractor, django_capture_on_commit_callbacks
):
    customer, _, bruno, response = detractor
    page = log_call(client_for(org.csm_a), customer, bruno, django_capture_on_commit_callbacks)
    assert "Ciclo fechado" not in page.text
    assert Response.objects.get(pk=response.pk).loop_closed_at is None


def test_a_contact_of_another_customer_is_refused(org, client_for, detractor):
    customer, *_ = detractor
    stranger = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    response = client_for(org.csm_a).post(
        f"/customers/{customer.pk}/activities/", {"kind": "call", "title": "Ligação", "contact": stranger.pk}
    )
    assert response.status_code == 422
    assert not customer.activities.filter(kind="call").exists()
