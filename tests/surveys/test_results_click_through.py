"""The figures of the results page open the answers and customers behind them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.portfolio.factories import CustomerFactory
from tests.surveys.test_results import answered, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org):
    return {
        "a1": CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado"),
        "a2": CustomerFactory(owner=org.csm_a2, name="Clínica Sorriso"),
    }


@pytest.fixture
def answers(org, book):
    """A week-old campaign: Padaria's contacts answered 10 and 2 (a detractor still waiting, no comment);
    Clínica's answered 3, and was called back."""
    campaign = make_campaign(actor=org.admin, name="NPS de relacionamento")
    earlier = timezone.now() - timedelta(days=7)
    answered(campaign, book["a1"], 10, comment="Atendimento excelente", answered_at=earlier)
    answered(campaign, book["a1"], 2, answered_at=earlier)
    answered(campaign, book["a2"], 3, comment="Demora no suporte", answered_at=earlier, loop_closed_at=timezone.now())
    return campaign


def test_the_by_csm_rows_open_that_csms_answers(org, client_for, answers):
    client = client_for(org.leader_a)
    page = client.get("/surveys/results/nps/", {"months": 3})
    assert f'href="/surveys/results/nps/?months=3&amp;owner={org.csm_a.pk}#comments">Lucas Almeida</a>' in page.text

    filtered = client.get("/surveys/results/nps/", {"months": 3, "owner": org.csm_a.pk})
    comments = filtered.context["comment_page"].comments
    assert [c.customer_name for c in comments] == ["Padaria Pão Dourado"]


def test_waiting_for_a_call_opens_the_detractors_still_waiting(org, client_for, answers, book):
    client = client_for(org.leader_a)
    page = client.get(f"/surveys/{answers.pk}/")
    assert f'href="/surveys/{answers.pk}/?waiting=on#comments">1 aguardando ligação</a>' in page.text

    waiting = client.get(f"/surveys/{answers.pk}/", {"waiting": "on"})
    comments = waiting.context["comment_page"].comments
    assert [(c.customer_name, c.score) for c in comments] == [("Padaria Pão Dourado", 2)]
    assert f'href="/customers/{book["a1"].pk}/"' in waiting.text
