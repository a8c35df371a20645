"""The customer page's survey history: the latest NPS, CSAT and CES answer of each contact, shown by a panel
surveys registers in core.panels (portfolio never imports surveys), in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core import panels
from surveys import answers, selectors
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import CampaignFactory, DeliveryFactory

pytestmark = pytest.mark.django_db


def make_campaign(kind: str, **kwargs):
    return CampaignFactory(kind=kind, **kwargs)


def answered(campaign, contact, score: int, *, days_ago: int = 0, comment: str = ""):
    delivery = DeliveryFactory(campaign=campaign, contact=contact)
    response = answers.answer_record(delivery=delivery, score=score, comment=comment)
    moment = timezone.now() - timedelta(days=days_ago)
    type(response).objects.filter(pk=response.pk).update(answered_at=moment, updated_at=moment)
    return response


@pytest.fixture
def customer(org):
    return CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a)


def test_surveys_registers_the_panel():
    assert "survey-history" in [panel.key for panel in panels.registered()]


def test_the_latest_answer_of_each_contact_and_kind_newest_first(org, customer):
    ana = ContactFactory(customer=customer, name="Ana Diretora")
    bruno = ContactFactory(customer=customer, name="Bruno Campeão")
    nps_then, nps_now = make_campaign("nps"), make_campaign("nps")
    csat = make_campaign("csat", scale_max=5)
    answered(nps_then, ana, 3, days_ago=120, comment="Suporte lento")
    answered(nps_now, ana, 9, days_ago=10, comment="Melhorou muito")
    answered(csat, ana, 4, days_ago=5)
    answered(nps_now, bruno, 6, days_ago=20)
    # another customer's answer stays on its own page
    answered(nps_now, ContactFactory(customer=CustomerFactory(owner=org.csm_a)), 10)

    history = selectors.customer_survey_history(org.csm_a, customer)

    assert [(a.contact_name, a.kind, a.score, a.colour) for a in history] == [
        ("Ana Diretora", "csat", 4, "green"),
        ("Ana Diretora", "nps", 9, "green"),
        ("Bruno Campeão", "nps", 6, "red"),
    ]
    assert history[1].comment == "Melhorou muito"
    assert history[1].campaign_id == nps_now.pk


def test_the_customer_page_shows_the_history_with_a_link_to_each_answer(org, customer, client_for):
    ana = ContactFactory(customer=customer, name="Ana Diretora")
    campaign = make_campaign("nps")
    answered(campaign, ana, 9, comment="Melhorou muito")

    page = client_for(org.csm_a).get(f"/customers/{customer.pk}/")

    assert page.status_code == 200
    section = page.text.split('id="survey-history"', 1)[1].split("</section>", 1)[0]
    assert "Respostas de pesquisa" in section
    assert "Ana Diretora" in section
    assert "Melhorou muito" in section
    assert f'href="/surveys/{campaign.pk}/#comments"' in section


def test_a_customer_without_answers_says_so(org, customer, client_for):
    page = client_for(org.csm_a).get(f"/customers/{customer.pk}/")

    assert "Nenhuma resposta de pesquisa ainda." in page.text


def test_the_customer_page_query_count_stays_constant_as_answers_grow(
    org, customer, client_for, django_assert_max_num_queries
):
    first = ContactFactory(customer=customer, name="Contato 00")
    answered(make_campaign("nps"), first, 8)
    client = client_for(org.csm_a)
    with django_assert_max_num_queries(40) as few:
        client.get(f"/customers/{customer.pk}/")

    # given many contacts, each with answers to several campaigns of each kind
    campaigns = [make_campaign(kind) for kind in ("nps", "nps", "csat", "ces")]
    names = [f"Contato {n:02}" for n in range(1, 11)]
    for name in names:
        contact = ContactFactory(customer=customer, name=name)
        for days_ago, campaign in enumerate(campaigns):
            answered(campaign, contact, 7, days_ago=days_ago)

    # then the page reads them in as many queries as before
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(f"/customers/{customer.pk}/")
    assert all(name in page.text for name in names)


def test_the_timeline_filtered_to_survey_answers_lists_them(org, customer, client_for):
    answered(make_campaign("nps"), ContactFactory(customer=customer, name="Ana Diretora"), 9)
    client = client_for(org.csm_a)

    filtered = client.get(f"/customers/{customer.pk}/?partial=timeline&kind=survey", HTTP_HX_REQUEST="true")

    assert "NPS 9" in filtered.text
    assert "Ana Diretora" in filtered.text
    assert "Nenhum registro" not in filtered.text
