"""My day shows each role what is theirs to act on; a leader's lists name the CSM."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portfolio import selectors, services
from portfolio.models import ChurnOutcome, ChurnRequest, ReviewStatus, UtiStay
from tests.portfolio.factories import CustomerFactory, hand_off, subscribe
from tests.portfolio.test_selectors import open_churn

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def history(org, committed):
    """Juliana (ISM) onboarded Clínica Sorriso and Loja Bela long ago and handed them to Lucas; one is in UTI,
    the other asks to cancel. She onboards Oficina Rápida now, which asks to cancel too."""
    saved = CustomerFactory(
        name="Clínica Sorriso", implementation_manager=org.ism_a, start_date=today() - timedelta(days=400)
    )
    subscribe(saved)
    hand_off(saved, org.csm_a, actor=org.ism_a)
    saved.refresh_from_db()
    with committed():
        uti = services.churn_request_resolve(
            churn_request=open_churn(saved, org.csm_a), outcome=ChurnOutcome.RECOVERED, actor=org.csm_a
        )
    leaving = CustomerFactory(
        name="Loja Bela", implementation_manager=org.ism_a, start_date=today() - timedelta(days=300)
    )
    hand_off(leaving, org.csm_a, actor=org.ism_a)
    leaving.refresh_from_db()
    with committed():
        old_churn = open_churn(leaving, org.csm_a)
    onboarding = CustomerFactory(
        name="Oficina Rápida", owner=org.csm_a, implementation_manager=org.ism_a, start_date=today() - timedelta(days=5)
    )
    with committed():
        new_churn = open_churn(onboarding, org.ism_a)
    return {"uti": uti, "old_churn": old_churn, "new_churn": new_churn, "onboarding": onboarding}


def test_the_isms_day_shows_her_onboardings_not_customers_she_handed_off(org, history):
    day = selectors.my_day(org.ism_a)

    assert [c.pk for c in day["churn_requests"]] == [history["new_churn"].pk]
    assert day["uti"] == []
    assert [m.customer.name for m in day["milestones"]] == ["Oficina Rápida"]
    assert "reviews" not in day["sections"]


def test_the_csms_day_shows_the_customers_she_owns_after_the_handoff(org, history):
    day = selectors.my_day(org.csm_a)

    assert {c.customer.name for c in day["churn_requests"]} == {"Loja Bela", "Oficina Rápida"}
    assert [s.pk for s in day["uti"]] == [history["uti"].pk]
    # Oficina Rápida's onboarding is Juliana's to run: its milestones are not on Lucas's day.
    assert day["milestones"] == []


def test_the_isms_page_has_no_reviews_and_no_old_customers(org, history, client_for):
    page = client_for(org.ism_a).get("/")
    assert page.status_code == 200
    assert "Oficina Rápida" in page.text
    assert "Loja Bela" not in page.text
    assert "Clínica Sorriso" not in page.text
    assert 'id="reviews-h"' not in page.text


def test_a_leaders_lists_name_the_csm(org, history, client_for):
    overdue = services.review_schedule(
        customer=history["uti"].customer, due_date=today() - timedelta(days=3), actor=org.csm_a
    )
    assert overdue.status == ReviewStatus.SCHEDULED
    page = client_for(org.leader_a).get("/")
    text = page.text
    churn_list = text[text.index('id="churn-h"') : text.index('id="uti-h"')]
    assert churn_list.count("CSM Lucas Almeida") == 2
    uti_list = text[text.index('id="uti-h"') : text.index('id="reviews-h"')]
    assert "CSM Lucas Almeida" in uti_list
    reviews_list = text[text.index('id="reviews-h"') : text.index('id="ms-h"')]
    assert "Clínica Sorriso" in reviews_list
    assert "CSM Lucas Almeida" in reviews_list


def _summary(page) -> str:
    text = page.text
    return text[text.index('class="stats"') : text.index('class="grid grid-2"')]


def test_the_isms_summary_counts_only_what_her_day_lists(org, history, client_for):
    summary = _summary(client_for(org.ism_a).get("/"))
    assert "Revisões próximas" not in summary
    assert "Tarefas pendentes" in summary
    assert "Pedidos de churn em aberto" in summary
    assert "Na UTI" in summary
    # the CSM's four, and the month's MRR change that metrics adds
    csm_summary = _summary(client_for(org.csm_a).get("/"))
    assert csm_summary.count('class="stat"') == 5
    assert 'id="metrics-month-net-new"' in csm_summary


def test_a_leaders_summary_counts_every_row_of_the_team_not_the_rows_listed(org, client_for):
    # given 23 of the team's customers with a success review overdue
    for n in range(23):
        customer = CustomerFactory(name=f"Revisão {n:02d}", owner=org.csm_a, start_date=today() - timedelta(days=400))
        services.review_schedule(customer=customer, due_date=today() - timedelta(days=3), actor=org.csm_a)

    # when the leader opens her day
    page = client_for(org.leader_a).get("/")

    # then the tile counts all 23, and the list shows the first 20, saying so
    assert 'Revisões próximas</div><div class="value">23</div>' in _summary(page)
    text = page.text
    reviews_list = text[text.index('id="reviews-h"') : text.index('id="ms-h"')]
    assert reviews_list.count("<strong>Revisão ") == 20
    assert "Os primeiros 20 de 23." in reviews_list
    # and her day's context says the same
    day = selectors.my_day(org.leader_a)
    assert (len(day["reviews"]), day["review_count"]) == (20, 23)
    # the same customers, still in onboarding 400 days after their start: both milestones of each overdue
    assert (len(day["milestones"]), day["milestone_count"]) == (20, 46)
    assert (day["uti"], day["uti_count"], day["churn_requests"], day["churn_count"]) == ([], 0, [], 0)


def test_a_leaders_uti_and_churn_lists_count_every_row_and_show_the_first_twenty_in_order(org):
    # given 22 of the team's customers in UTI, their stays ending on four different days, and 21 asking to leave
    for n in range(22):
        customer = CustomerFactory(name=f"UTI {n:02d}", owner=org.csm_a, start_date=today() - timedelta(days=400))
        subscribe(customer)
        services.churn_request_resolve(
            churn_request=open_churn(customer, org.csm_a), outcome=ChurnOutcome.RECOVERED, actor=org.csm_a
        )
        customer.uti_stays.update(ends_on=today() + timedelta(days=5 + n % 4))
    for n in range(21):
        customer = CustomerFactory(name=f"Saída {n:02d}", owner=org.csm_a, start_date=today() - timedelta(days=400))
        subscribe(customer)
        open_churn(customer, org.csm_a)

    for person in (org.leader_a, org.csm_a):  # a leader's counts are taken apart from the rows; a CSM's with them
        day = selectors.my_day(person)

        assert (len(day["uti"]), day["uti_count"]) == (20, 22)
        stays = sorted(UtiStay.objects.filter(exit="open"), key=lambda stay: (stay.ends_on, stay.pk))
        assert [stay.pk for stay in day["uti"]] == [stay.pk for stay in stays[:20]]
        assert (len(day["churn_requests"]), day["churn_count"]) == (20, 21)
        newest = ChurnRequest.objects.filter(outcome=ChurnOutcome.OPEN).order_by("-created_at")[:20]
        assert [request.pk for request in day["churn_requests"]] == [request.pk for request in newest]
    # another team's leader: none of it
    day = selectors.my_day(org.leader_b)
    assert (day["uti"], day["uti_count"], day["churn_requests"], day["churn_count"]) == ([], 0, [], 0)


@pytest.mark.parametrize(
    ("customers", "leader_count", "leader_says"),
    [
        (25, 50, "Os primeiros 20 de 50."),  # 50 milestones: counted exactly
        (26, 51, "Os primeiros 20 de mais de 50."),  # 52: more than 50, not counted further
    ],
)
def test_a_leaders_milestones_at_risk_are_counted_up_to_fifty_and_the_csms_in_all(
    org, client_for, customers, leader_count, leader_says
):
    # given the team's customers still in onboarding 400 days after their start: both milestones of each overdue
    # (no ISM: their CSM runs the onboarding)
    for n in range(customers):
        CustomerFactory(name=f"Atrasado {n:02d}", owner=org.csm_a, start_date=today() - timedelta(days=400))
    # and one of team B's, which neither counts
    CustomerFactory(name="Atrasado B", owner=org.csm_b, start_date=today() - timedelta(days=400))

    # when the leader opens her day, the list shows 20 and counts up to 50
    day = selectors.my_day(org.leader_a)
    assert (len(day["milestones"]), day["milestone_count"], day["milestones_counted"]) == (20, leader_count, 50)
    assert [m.target_date for m in day["milestones"]] == sorted(m.target_date for m in day["milestones"])
    page = client_for(org.leader_a).get("/").text
    assert leader_says in page[page.index('id="ms-h"') :]

    # and the CSM who runs them counts every one of hers
    csm_day = selectors.my_day(org.csm_a)
    assert (len(csm_day["milestones"]), csm_day["milestone_count"]) == (20, 2 * customers)
    assert csm_day["milestones_counted"] is None
    assert all(m.customer.owner_id == org.csm_a.pk for m in csm_day["milestones"])
    assert f"Os primeiros 20 de {2 * customers}." in client_for(org.csm_a).get("/").text
