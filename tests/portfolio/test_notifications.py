"""The bell: a notice for what happened to the person's customers (a detractor answer, a churn request opened, a
customer reassigned to them, a handoff received), once per occurrence, only for their customers, read once seen,
and at no query's cost on the pages that show it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio import services
from portfolio.models import Notification, NotificationKind
from surveys import answers
from tests.portfolio.factories import ContactFactory, CustomerFactory, hand_off
from tests.portfolio.test_services import ongoing_customer, open_churn
from tests.surveys.test_answers import make_campaign, make_delivery

pytestmark = pytest.mark.django_db


def notices_of(person) -> list[tuple[str, int, int | None]]:
    return list(Notification.objects.filter(recipient=person).values_list("kind", "customer_id", "actor_id"))


def unread_count(person) -> int:
    person.refresh_from_db()
    return person.notifications_unread


# --- Each event ---------------------------------------------------------------------------------------


def test_a_detractor_answer_tells_the_customers_csm_once(org, committed):
    # given a customer of csm_a whose contact gets an NPS survey
    customer = CustomerFactory(owner=org.csm_a, name="Padaria Pão Quente")
    delivery, _ = make_delivery(make_campaign("nps"), contact=ContactFactory(customer=customer))

    # when the contact answers 3, then changes it to 2
    with committed():
        response = answers.answer_record(delivery=delivery, score=3, comment="Suporte lento")
    with committed():
        answers.answer_record(delivery=delivery, score=2)

    # then csm_a has one notice, with the score, and nobody else has any
    assert notices_of(org.csm_a) == [(NotificationKind.DETRACTOR, customer.pk, None)]
    notice = Notification.objects.get(recipient=org.csm_a)
    assert notice.facts == {"survey": "nps", "score": 3, "response_id": response.pk}
    assert unread_count(org.csm_a) == 1
    assert Notification.objects.exclude(recipient=org.csm_a).count() == 0


def test_a_churn_request_opened_by_someone_else_tells_the_owner(org, committed):
    customer = ongoing_customer(org)

    with committed():
        open_churn(customer, org.leader_a)

    assert notices_of(org.csm_a) == [(NotificationKind.CHURN_REQUEST, customer.pk, org.leader_a.pk)]
    assert unread_count(org.csm_a) == 1


def test_the_owner_is_not_told_of_the_churn_request_they_opened(org, committed):
    customer = ongoing_customer(org)

    with committed():
        open_churn(customer, org.csm_a)

    assert notices_of(org.csm_a) == []
    assert unread_count(org.csm_a) == 0


def test_a_reassignment_tells_the_new_owner_only(org, committed):
    # given two customers of csm_a
    first, second = ongoing_customer(org), ongoing_customer(org)
    Notification.objects.all().delete()

    # when the leader moves them to csm_a2
    with committed():
        services.customers_reassign(customers=[first, second], to_owner=org.csm_a2, actor=org.leader_a)

    # then csm_a2 hears of both, csm_a of neither
    assert sorted(notices_of(org.csm_a2)) == sorted(
        [(NotificationKind.REASSIGNED, c.pk, org.leader_a.pk) for c in (first, second)]
    )
    assert notices_of(org.csm_a) == []
    assert unread_count(org.csm_a2) == 2


def test_a_handoff_tells_the_receiving_csm_once(org, committed):
    # given a customer in onboarding with its ISM
    customer = CustomerFactory(implementation_manager=org.ism_a, name="Clínica Bem Estar")

    # when the ISM hands it off to csm_a (an ownership change by handoff as well)
    with committed():
        hand_off(customer, org.csm_a, actor=org.ism_a)

    # then one notice, the handoff's, from the ISM
    assert notices_of(org.csm_a) == [(NotificationKind.HANDOFF, customer.pk, org.ism_a.pk)]
    assert unread_count(org.csm_a) == 1


def test_the_same_occurrence_twice_makes_one_notice(org):
    customer = CustomerFactory(owner=org.csm_a)
    fields = {"customer_id": customer.pk, "kind": NotificationKind.HANDOFF, "origin_key": "handoff:999"}

    first = services.notification_create(recipient_id=org.csm_a.pk, **fields)
    again = services.notification_create(recipient_id=org.csm_a.pk, **fields)

    assert first == again
    assert unread_count(org.csm_a) == 1


# --- The door -------------------------------------------------------------------------------------------


def test_nobody_is_told_of_a_customer_they_may_not_see(org):
    customer = CustomerFactory(owner=org.csm_a)

    told = services.notification_create(
        recipient_id=org.csm_b.pk, customer_id=customer.pk, kind=NotificationKind.DETRACTOR, origin_key="x:1"
    )

    assert told is None
    assert unread_count(org.csm_b) == 0


def test_each_person_sees_only_their_notices_and_only_of_customers_still_theirs(org, client_for, committed):
    # given notices for csm_a about two customers, and one for csm_a2
    kept, moved = ongoing_customer(org), ongoing_customer(org)
    with committed():
        open_churn(kept, org.leader_a)
        open_churn(moved, org.leader_a)
    other = ongoing_customer(org, csm=org.csm_a2)
    with committed():
        open_churn(other, org.leader_a)

    # when one of csm_a's customers goes to csm_a2
    with committed():
        services.customers_reassign(customers=[moved], to_owner=org.csm_a2, actor=org.leader_a)

    # then csm_a's list holds the customer still theirs only; csm_b's holds nothing
    page = client_for(org.csm_a).get("/notifications/")
    assert kept.name in page.text
    assert moved.name not in page.text
    assert other.name not in page.text
    assert unread_count(org.csm_a) == 0  # the moved customer's notice no longer counts on the bell
    nothing = client_for(org.csm_b).get("/notifications/")
    assert "Nada de novo sobre os seus clientes." in nothing.text


# --- Reading them -----------------------------------------------------------------------------------------


def test_the_bell_shows_the_count_and_opening_it_marks_them_read(org, client_for, committed):
    # given two notices for csm_a
    first, second = ongoing_customer(org), ongoing_customer(org)
    with committed():
        open_churn(first, org.leader_a)
        open_churn(second, org.leader_a)
    client = client_for(org.csm_a)

    # the bell on any page says 2
    home = client.get("/")
    assert '<span class="bell-count" aria-hidden="true">2</span>' in home.text
    assert "Notificações: 2 não lidas" in home.text

    # when the bell opens (htmx): the list, each new one marked, and the count swapped out of band to none
    dropdown = client.get("/notifications/", headers={"HX-Request": "true"})
    assert dropdown.status_code == 200
    assert "<h1>" not in dropdown.text
    assert dropdown.text.count('class="notice unread"') == 2
    assert 'id="bell-count" hx-swap-oob="true"' in dropdown.text
    assert 'class="bell-count"' not in dropdown.text
    assert f'href="/customers/{first.pk}/"' in dropdown.text
    assert "Pedido de churn aberto por Mariana Costa" in dropdown.text

    # then they are read: the next look shows them without the mark, and the bell has no count
    assert unread_count(org.csm_a) == 0
    assert Notification.objects.filter(recipient=org.csm_a, read_at__isnull=True).count() == 0
    again = client.get("/notifications/")
    assert 'class="notice unread"' not in again.text
    assert first.name in again.text
    assert 'class="bell-count"' not in again.text


def test_marking_read_touches_only_the_readers_notices(org):
    customer = CustomerFactory(owner=org.csm_a)
    notice = services.notification_create(
        recipient_id=org.csm_a.pk, customer_id=customer.pk, kind=NotificationKind.HANDOFF, origin_key="handoff:1"
    )

    marked = services.notifications_mark_read(user=org.csm_a2, notifications=[notice])

    notice.refresh_from_db()
    assert marked == 0
    assert notice.read_at is None
    assert unread_count(org.csm_a) == 1


# --- What it costs --------------------------------------------------------------------------------------

# The bell's list: the session, the person, the notices (with customer and actor); marking the new ones read (a
# savepoint under the test's transaction, the update, the count left unread, the person's count, the release).
LIST_QUERIES = 8
# A second look, with nothing new: the session, the person, the notices.
LOOK_AGAIN_QUERIES = 3


def notify(person, customers, *, start=0):
    for i, customer in enumerate(customers, start=start):
        services.notification_create(
            recipient_id=person.pk,
            customer_id=customer.pk,
            kind=NotificationKind.REASSIGNED,
            origin_key=f"test:{i}",
            actor_id=person.team.leader_id,
        )


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_bell_costs_no_query_on_a_page_and_its_list_a_fixed_number(org, client_for, django_assert_num_queries):
    # given a CSM without notices, and what My day costs her
    customers = [CustomerFactory(owner=org.csm_a) for _ in range(12)]
    client = client_for(org.csm_a)
    my_day_without = queries_of(client, "/")

    # when 3 notices arrive, then 12 more
    notify(org.csm_a, customers[:3])
    my_day_with = queries_of(client, "/")
    with django_assert_num_queries(LIST_QUERIES):
        few = client.get("/notifications/", headers={"HX-Request": "true"})
    notify(org.csm_a, customers, start=3)
    with django_assert_num_queries(LIST_QUERIES):
        many = client.get("/notifications/", headers={"HX-Request": "true"})

    with django_assert_num_queries(LOOK_AGAIN_QUERIES):
        client.get("/notifications/", headers={"HX-Request": "true"})

    # then My day costs the same with notices as without (the count rides on the person's row, already loaded),
    # and the list the same for 3 as for 12
    assert my_day_with == my_day_without
    assert few.text.count('class="notice unread"') == 3
    assert many.text.count('class="notice unread"') == 12
