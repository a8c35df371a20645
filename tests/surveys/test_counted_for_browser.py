"""In a real browser, in Portuguese: after a leader reassigns two customers, the NPS results still count their
answers for the CSM who owned them then; the customer page says "hoje" for a touch today. Screenshots to look
at, on a desktop and on a phone."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portfolio import services as portfolio_services
from portfolio.models import Customer
from surveys.answers import answer_record
from tests.conftest import screenshot
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import DeliveryFactory
from tests.surveys.test_results import make_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reassigned_answers_stay_with_their_csm_and_today_reads_hoje(page, login_page, org):
    # given Lucas's two customers answered NPS (a promoter and a detractor) and Beatriz's one answered
    lucas = [CustomerFactory(owner=org.csm_a, name=name) for name in ("Atlas S.A.", "Clínica Sorriso")]
    beatriz = CustomerFactory(owner=org.csm_a2, name="Transportes Rápido Sul")
    campaign = make_campaign(actor=org.admin, name="NPS de relacionamento")
    for customer, score in [(lucas[0], 10), (lucas[1], 3), (beatriz, 9)]:
        answer_record(
            delivery=DeliveryFactory(campaign=campaign, contact=ContactFactory(customer=customer)), score=score
        )
    Customer.objects.filter(pk=lucas[0].pk).update(last_touch_at=timezone.now())

    # when the leader moves both of Lucas's customers to Beatriz and opens the results
    portfolio_services.customers_reassign(customers=lucas, to_owner=org.csm_a2, actor=org.leader_a)
    login_page(page, org.leader_a)
    page.goto(f"{page.base_url}/surveys/{campaign.pk}/")

    # then "Por CSM" still gives Lucas his two answers
    by_csm = page.locator("section", has=page.get_by_role("heading", name="Por CSM"))
    expect(by_csm.get_by_role("row", name="Lucas Almeida")).to_contain_text("2")
    expect(by_csm.get_by_role("row", name="Beatriz Santos")).to_contain_text("1")
    screenshot(page, "counted-for-1-results")

    # and the customer touched today says so, on a phone too
    page.goto(f"{page.base_url}/customers/{lucas[0].pk}/")
    expect(page.get_by_text("hoje").first).to_be_visible()
    assert "há 0 dia" not in page.content()
    screenshot(page, "counted-for-2-customer")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/surveys/{campaign.pk}/")
    screenshot(page, "counted-for-3-results-phone")
