"""Whether the door lets someone through to every customer (``portfolio.selectors.sees_every_customer``): a page
that reads rows without testing the door relies on it, so it must be true exactly when no customer is outside."""

import pytest

from accounts.access import outside_candidates_filter
from core import request_memo
from portfolio.models import Customer
from portfolio.selectors import customers_visible_to, page_sees_every_customer, sees_every_customer, visible_through
from portfolio.selectors.scope import CUSTOMER_PEOPLE
from tests.factories import UserFactory
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def truth(user) -> bool:
    """The door's own answer, the slow way: every customer is among those it lets through."""
    return customers_visible_to(user).count() == Customer.objects.count()


@pytest.fixture
def team_a_book(org):
    """Customers of team A only: owned by its CSMs, one with only an ISM of the team, one of the leader herself."""
    CustomerFactory(owner=org.csm_a)
    CustomerFactory(owner=org.csm_a2, implementation_manager=org.ism_a)
    CustomerFactory(owner=None, implementation_manager=org.ism_a)
    CustomerFactory(owner=org.leader_a)
    return org


def test_a_leader_whose_team_holds_every_customer_sees_them_all(team_a_book, django_assert_num_queries):
    org = team_a_book
    # two queries: the people outside her teams, then one customer outside the door, if any
    with django_assert_num_queries(2):
        assert sees_every_customer(org.leader_a) is True
    assert truth(org.leader_a) is True
    assert sees_every_customer(org.viewer_a) is True  # the team's viewer reads the same scope
    # the other team's leader sees none of them
    assert sees_every_customer(org.leader_b) is False


@pytest.mark.parametrize(
    "outside",
    [
        "another team's CSM owns it",
        "nobody: no owner, no ISM, no farmer",
        "no owner; its ISM is in another team",
        "an owner with no team",
    ],
)
def test_one_customer_outside_the_team_is_enough(team_a_book, outside):
    org = team_a_book
    people = {
        "another team's CSM owns it": {"owner": org.csm_b},
        "nobody: no owner, no ISM, no farmer": {"owner": None},
        "no owner; its ISM is in another team": {
            "owner": None,
            "implementation_manager": UserFactory(team=org.team_b, role="ism"),
        },
        "an owner with no team": {"owner": UserFactory(team=None)},
    }[outside]
    CustomerFactory(**people)

    assert sees_every_customer(org.leader_a) is False
    assert truth(org.leader_a) is False


def test_a_customer_of_another_team_that_the_leader_farms_is_hers(team_a_book):
    # given a customer owned in team B whose farmer is the leader herself: her own row, by the door
    org = team_a_book
    CustomerFactory(owner=org.csm_b, farmer=org.leader_a)

    assert truth(org.leader_a) is True
    assert sees_every_customer(org.leader_a) is True


def test_by_rule_and_by_role(team_a_book, django_assert_num_queries):
    org = team_a_book
    CustomerFactory(owner=org.csm_b)
    with django_assert_num_queries(0):
        assert sees_every_customer(org.admin) is True
        assert sees_every_customer(org.viewer_all) is True
        # a CSM, ISM or farmer sees their own customers: never asked
        assert sees_every_customer(org.csm_a) is False
        assert sees_every_customer(org.ism_a) is False


def test_the_candidates_hold_every_customer_outside_the_door(team_a_book):
    # given customers in every arrangement of people
    org = team_a_book
    CustomerFactory(owner=org.csm_b)
    CustomerFactory(owner=None)
    CustomerFactory(owner=None, farmer=org.farmer_a)
    CustomerFactory(owner=org.csm_b, implementation_manager=org.ism_a)
    for user in (org.leader_a, org.leader_b, org.viewer_a):
        seen = customers_visible_to(user).values("pk")
        outside = set(Customer.objects.exclude(pk__in=seen).values_list("pk", flat=True))
        candidates = Customer.objects.filter(outside_candidates_filter(user, people=CUSTOMER_PEOPLE))
        assert outside
        assert outside <= set(candidates.values_list("pk", flat=True))


def test_nobody_to_see_and_nothing_there(org):
    assert sees_every_customer(org.leader_a) is True  # no customer at all: none is outside
    CustomerFactory(owner=org.csm_b)
    assert sees_every_customer(org.leader_a) is False


# --- A page's lists skip the door when it lets the person through to every customer -------------------------


def test_only_a_request_skips_the_door_and_looks_once(team_a_book, django_assert_num_queries):
    org = team_a_book
    # outside a request (a task, a command): the door is tested on each row, nothing is asked
    with django_assert_num_queries(0):
        assert page_sees_every_customer(org.leader_a) is False
    with request_memo.request_scope():
        # inside one: asked once (two reads, and her teams' people read once for the request), whatever number of
        # lists ask after
        with django_assert_num_queries(3):
            assert page_sees_every_customer(org.leader_a) is True
            assert page_sees_every_customer(org.leader_a) is True
            assert str(customers_visible_to(org.leader_a).query) == str(Customer.objects.all().query)
        with django_assert_num_queries(0):
            # an admin's door filters nothing anyway; a CSM's is their own rows
            assert page_sees_every_customer(org.admin) is False
            assert page_sees_every_customer(org.csm_a) is False
    # and nothing outlives the request
    assert request_memo.in_request() is False
    assert page_sees_every_customer(org.leader_a) is False


def test_a_customer_moved_out_of_the_team_leaves_the_leaders_pages_at_the_next_request(team_a_book, client_for):
    # given the leader's team holds every customer, and she opens her portfolio and a customer's page
    org = team_a_book
    moved = CustomerFactory(name="Padaria Mudou", owner=org.csm_a)
    client = client_for(org.leader_a)
    assert "Padaria Mudou" in client.get("/portfolio/").text
    assert client.get(f"/customers/{moved.pk}/").status_code == 200

    # when the customer goes to team B's CSM
    Customer.objects.filter(pk=moved.pk).update(owner=org.csm_b)

    # then her next requests go through the door again: the customer is gone from her lists and its page
    assert "Padaria Mudou" not in client.get("/portfolio/").text
    assert client.get(f"/customers/{moved.pk}/").status_code == 404
    # while team B's leader, who does not see every customer, sees it
    assert "Padaria Mudou" in client_for(org.leader_b).get("/portfolio/").text


def test_a_leaders_team_is_read_once_a_request_and_a_new_member_counts_from_the_next(org, django_assert_num_queries):
    # given a customer owned by someone in no team: not team A's
    newcomer = UserFactory(team=None, full_name="Nova Pessoa")
    customer = CustomerFactory(name="Cliente da Nova", owner=newcomer)
    leader = org.leader_a

    def sees() -> bool:
        return customers_visible_to(leader).filter(pk=customer.pk).exists()

    with request_memo.request_scope():
        assert sees() is False
        # when the newcomer joins team A during the request
        newcomer.team = org.team_a
        newcomer.save()
        # then this request still reads the team it read (its people, once: one query for the row, none for them)
        with django_assert_num_queries(1):
            assert sees() is False
    # and the next request, with the same person object, reads the team again
    with request_memo.request_scope():
        assert sees() is True
    # outside any request the team is read with each query
    newcomer.team = org.team_b
    newcomer.save()
    assert sees() is False


def test_a_leader_who_sees_every_customer_still_reads_no_row_without_one(team_a_book):
    # given an eNPS answer (no customer: an employee answered) and a customer survey's answer, and the leader's
    # team holding every customer
    from playbooks.models import Run
    from surveys.models import CampaignMode, Response, SurveyKind
    from surveys.selectors import customer_deliveries, customer_responses
    from tests.surveys.test_results import answered_by_employee, make_campaign

    org = team_a_book
    enps = make_campaign(SurveyKind.ENPS, actor=org.admin, mode=CampaignMode.NOW, name="eNPS")
    employee_answer = answered_by_employee(enps, org.csm_b, 3)
    assert employee_answer.customer_id is None

    # when her page's lists read the customers' rows, skipping the door
    with request_memo.request_scope():
        assert page_sees_every_customer(org.leader_a) is True
        answers = customer_responses(org.leader_a)
        deliveries = customer_deliveries(org.leader_a)
        # then no row without a customer comes through, as the door would give
        assert not answers.filter(pk=employee_answer.pk).exists()
        assert not deliveries.filter(pk=employee_answer.delivery_id).exists()
        assert not Response.objects.filter(visible_through(org.leader_a), pk=employee_answer.pk).exists()
        assert '"customer_id" IS NOT NULL' in str(Run.objects.filter(visible_through(org.leader_a)).query)
