"""My day lists the customers whose journey stage changed since yesterday (from → to, and when): the morning
digest's list, read by the same selector, behind the same door, in one query."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portfolio import selectors
from portfolio.models import Customer
from tests.portfolio.factories import CustomerFactory
from tests.portfolio.test_services import ongoing_customer

pytestmark = pytest.mark.django_db

# What My day costs a CSM: the 8 queries it made before this list (the session and the person; its own lists: the
# tasks due, whose count comes with the first rows shown, the reviews, UTI stays, milestones and churn requests, and
# the month's renewals, whose totals come with the rows shown), + 1: the customers whose stage changed since
# yesterday (selectors.day.customers_changed_stage, one query that also reads each one's previous stage), + 1: the
# month's MRR change that metrics adds (metrics.day, one query on the rollups). The customers health saw turn red
# are asked for once the page shows (health:day_red), not by the page.
MY_DAY_QUERIES = 8 + 1 + 1


def changed_section(html: str) -> str:
    found = re.search(r'<section class="card" aria-labelledby="changed-h".*?</section>', html, re.S)
    return found[0] if found else ""


def test_the_owner_sees_the_customer_that_changed_stage_from_to_and_when(org, client_for):
    # given a customer of Lucas's handed off today: onboarding → ongoing
    customer = ongoing_customer(org)
    Customer.objects.filter(pk=customer.pk).update(name="Padaria Pão Dourado")

    # when Lucas opens My day
    section = changed_section(client_for(org.csm_a).get("/").text)

    # then the change is there, from → to, with when it happened
    assert "Mudaram de etapa desde ontem" in section
    assert f'href="/customers/{customer.pk}/"' in section
    assert "Padaria Pão Dourado" in section
    assert re.search(r"Implantação</span>.*→.*Acompanhamento</span>", section, re.S)
    assert timezone.localtime(customer.stage_changed_at).strftime("%d/%m/%Y %H:%M") in section


def test_the_change_stays_behind_the_door(org, client_for):
    # given a customer of Lucas's (team A) that changed stage today, and one of Camila's (team B)
    ours = ongoing_customer(org)
    theirs = ongoing_customer(org, csm=org.csm_b)

    # then team A's leader sees Lucas's change (naming the CSM), not team B's; Camila sees only hers; a colleague
    # of Lucas's sees neither (My day lists the customers one owns)
    leader = changed_section(client_for(org.leader_a).get("/").text)
    assert f"/customers/{ours.pk}/" in leader
    assert "Lucas Almeida" in leader
    assert f"/customers/{theirs.pk}/" not in leader
    assert [c.pk for c in selectors.my_day(org.csm_b)["changed"]] == [theirs.pk]
    assert changed_section(client_for(org.csm_a2).get("/").text) == ""
    # and Juliana, who onboarded both and handed them off, has them off her day (she runs onboardings)
    assert selectors.my_day(org.ism_a)["changed"] == []


def test_changes_before_yesterday_and_new_customers_are_not_listed(org):
    # given a change three days ago, and a customer created today (still onboarding: new, not changed)
    old = ongoing_customer(org)
    Customer.objects.filter(pk=old.pk).update(stage_changed_at=timezone.now() - timedelta(days=3))
    CustomerFactory(owner=org.csm_a)

    # then Lucas's day lists neither
    assert selectors.my_day(org.csm_a)["changed"] == []


def test_the_list_costs_my_day_one_query_however_many_changed(org, client_for, django_assert_num_queries):
    client = client_for(org.csm_a)
    ongoing_customer(org)
    with django_assert_num_queries(MY_DAY_QUERIES):
        one = client.get("/")
    for _ in range(4):
        ongoing_customer(org)
    with django_assert_num_queries(MY_DAY_QUERIES):
        five = client.get("/")

    assert changed_section(one.text).count("<p>") == 1
    assert changed_section(five.text).count("<p>") == 5
