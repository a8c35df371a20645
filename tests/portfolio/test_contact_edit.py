"""Contacts are changed and archived from the customer page; an archived contact leaves the page and the
surveys' audiences and keeps its history."""

import pytest

from portfolio import services
from surveys.audience import audience_contacts
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import CampaignFactory, DeliveryFactory

pytestmark = pytest.mark.django_db


def test_a_csm_changes_a_contact_from_the_customer_page(org, client_for):
    customer = CustomerFactory(owner=org.csm_a)
    contact = ContactFactory(customer=customer, name="Ana Prado", email="ana@padaria.com.br", role="user")
    client = client_for(org.csm_a)

    page = client.get(f"/customers/{customer.pk}/")
    assert f"/customers/{customer.pk}/contacts/{contact.pk}/" in page.text
    # the page asks for the contact's form when its panel is opened
    form = client.get(f"/customers/{customer.pk}/contacts/{contact.pk}/", HTTP_HX_REQUEST="true")
    assert 'value="Ana Prado"' in form.text

    p = f"contact-{contact.pk}-"
    response = client.post(
        f"/customers/{customer.pk}/contacts/{contact.pk}/",
        {
            p + "name": "Ana Prado Lima",
            p + "email": "ANA@novaempresa.com.br",
            p + "role": "champion",
            p + "language": "en",
            p + "phone": "(11) 99999-0000",
        },
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.role, contact.language) == (
        "Ana Prado Lima",
        "ana@novaempresa.com.br",
        "champion",
        "en",
    )
    assert "Contato salvo." in client.get(f"/customers/{customer.pk}/").text


def test_a_bad_change_answers_422_with_its_errors_visible_and_changes_nothing(org, client_for):
    customer = CustomerFactory(owner=org.csm_a)
    contact = ContactFactory(customer=customer, name="Ana Prado", email="ana@padaria.com.br")
    p = f"contact-{contact.pk}-"

    response = client_for(org.csm_a).post(
        f"/customers/{customer.pk}/contacts/{contact.pk}/",
        {p + "name": "", p + "email": "não é email", p + "role": "user", p + "language": "pt-br"},
    )

    assert response.status_code == 422
    assert "Este campo é obrigatório." in response.text
    assert "Insira um endereço de email válido." in response.text
    assert 'value="não é email"' in response.text  # the input is kept
    contact.refresh_from_db()
    assert (contact.name, contact.email) == ("Ana Prado", "ana@padaria.com.br")


def test_an_archived_contact_leaves_the_page_and_the_surveys_and_keeps_its_history(org, client_for):
    customer = CustomerFactory(owner=org.csm_a)
    leaving = ContactFactory(customer=customer, name="Bruno Saiu")
    staying = ContactFactory(customer=customer, name="Carla Ficou")
    campaign = CampaignFactory()
    delivery = DeliveryFactory(campaign=campaign, contact=leaving)
    services.activity_log(
        customer=customer, kind="call", title="Ligação com o Bruno", author=org.csm_a, contact=leaving
    )
    client = client_for(org.csm_a)

    response = client.post(f"/customers/{customer.pk}/contacts/{leaving.pk}/archive/")

    assert response.status_code == 302
    leaving.refresh_from_db()
    assert leaving.archived_at is not None
    page = client.get(f"/customers/{customer.pk}/").text
    assert "Carla Ficou" in page
    assert f"/contacts/{leaving.pk}/" not in page
    assert "Ligação com o Bruno" in page  # the timeline keeps the entry
    assert list(audience_contacts(campaign).filter(customer=customer)) == [staying]
    delivery.refresh_from_db()  # the delivery (and its answers) stay
    # an archived contact can no longer be changed
    p = f"contact-{leaving.pk}-"
    again = client.post(
        f"/customers/{customer.pk}/contacts/{leaving.pk}/",
        {p + "name": "Bruno", p + "role": "user", p + "language": "pt-br"},
    )
    assert again.status_code == 404


def test_another_teams_contact_is_not_found_and_read_only_people_are_refused(org, client_for):
    theirs = ContactFactory(customer=CustomerFactory(owner=org.csm_b))
    ours = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    client = client_for(org.csm_a)

    # another team's contact, under their customer or smuggled under one of ours
    assert client.post(f"/customers/{theirs.customer_id}/contacts/{theirs.pk}/archive/").status_code == 404
    assert client.post(f"/customers/{ours.customer_id}/contacts/{theirs.pk}/archive/").status_code == 404
    assert client.post(f"/customers/{ours.customer_id}/contacts/{theirs.pk}/", {}).status_code == 404
    assert (
        client_for(org.viewer_a).post(f"/customers/{ours.customer_id}/contacts/{ours.pk}/archive/").status_code == 403
    )
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert theirs.archived_at is None
    assert ours.archived_at is None
