"""The portfolio API: scoped reads, writes through the services, errors as 400/403/404 (never 500), and list
queries that stay constant as rows grow."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from portfolio import ledger, services
from portfolio.api.serializers import ScopedPrimaryKeyRelatedField
from portfolio.models import (
    Activity,
    ChurnReason,
    ChurnRequest,
    Customer,
    MrrMovement,
    Stage,
    Subscription,
    SubscriptionStatus,
    UtiStay,
)
from tests.portfolio.factories import ContactFactory, CustomerFactory, churn_task, hand_off, play_tasks, subscribe

pytestmark = pytest.mark.django_db

API = "/api/v1"
CONCRETE = "O novo CFO cortou as ferramentas que não integram com o SAP B1 usado no financeiro"


def not_found() -> list[str]:
    """The field error for an id outside the caller's scope, as a token request without Accept-Language
    reads it (in the workspace's default language)."""
    with translation.override(settings.LANGUAGE_CODE):
        return [str(ScopedPrimaryKeyRelatedField.default_error_messages["does_not_exist"])]


def months_ago(n: int):
    return ledger.add_months(ledger.month_start(timezone.localdate()), -n)


def populate(customer: Customer) -> Customer:
    """One of everything the API lists, for a customer: a contact, a subscription started three months ago
    (so a "new" MRR movement), a note, a task and an open churn request."""
    ContactFactory(customer=customer)
    subscribe(customer, amount_cents=100_000, start=months_ago(3))
    services.activity_log(customer=customer, kind="note", title="Alinhamento de metas", author=customer.owner)
    services.task_create(customer=customer, owner=customer.owner, title="Ligar", due_date=timezone.localdate())
    services.churn_request_open(
        customer=customer,
        kind="voluntary",
        reason=ChurnReason.objects.get(code="budget-cut"),
        detail=CONCRETE,
        actor=customer.owner,
    )
    return customer


@pytest.fixture
def world(org) -> dict[str, Customer]:
    """Two customers in team A (one per CSM) and one in team B, each with one of everything."""
    return {
        "a": populate(CustomerFactory(name="Alfa Logística", owner=org.csm_a)),
        "a2": populate(CustomerFactory(name="Beta Varejo", owner=org.csm_a2)),
        "b": populate(CustomerFactory(name="Gama Saúde", owner=org.csm_b)),
    }


@pytest.fixture
def ongoing(org) -> Customer:
    """A customer of csm_a past its handoff, paying R$ 1.000 a month since three months ago."""
    customer = CustomerFactory(name="Delta Educação", owner=org.csm_a)
    subscribe(customer, amount_cents=100_000, start=months_ago(3))
    hand_off(customer, org.csm_a)
    customer.refresh_from_db()
    return customer


def open_churn(customer: Customer, actor):
    return services.churn_request_open(
        customer=customer,
        kind="voluntary",
        reason=ChurnReason.objects.get(code="missing-integration"),
        detail=CONCRETE,
        actor=actor,
    )


def movements(customer: Customer) -> list[tuple]:
    return list(customer.mrr_movements.order_by("month").values_list("month", "kind", "amount_cents"))


# --- Who sees what ----------------------------------------------------------------------------------------

LISTS = [
    ("customers", "id"),
    ("contacts", "customer"),
    ("subscriptions", "customer"),
    ("mrr-movements", "customer"),
    ("activities", "customer"),
    ("tasks", "customer"),
    ("churn-requests", "customer"),
]
SCOPES = [
    ("csm_a", {"a"}),
    ("leader_a", {"a", "a2"}),
    ("leader_b", {"b"}),
    ("admin", {"a", "a2", "b"}),
    ("viewer_a", {"a", "a2"}),
    ("viewer_all", {"a", "a2", "b"}),
]
ONE_OF = {
    "customers": lambda customer: customer,
    "contacts": lambda customer: customer.contacts.get(),
    "subscriptions": lambda customer: customer.subscriptions.get(),
    "mrr-movements": lambda customer: customer.mrr_movements.get(),
    "activities": lambda customer: customer.activities.filter(kind="note").get(),
    "tasks": lambda customer: customer.tasks.filter(origin="manual").get(),
    "churn-requests": lambda customer: customer.churn_requests.get(),
}


@pytest.mark.parametrize(("endpoint", "customer_key"), LISTS)
@pytest.mark.parametrize(("role", "expected"), SCOPES)
def test_lists_show_what_the_role_may_see(endpoint, customer_key, role, expected, org, world, api_for):
    response = api_for(getattr(org, role)).get(f"{API}/{endpoint}/")

    assert response.status_code == 200
    assert {row[customer_key] for row in response.json()["results"]} == {world[name].pk for name in expected}


@pytest.mark.parametrize("endpoint", [endpoint for endpoint, _ in LISTS])
@pytest.mark.parametrize("role", ["csm_a", "leader_a", "viewer_a"])
def test_another_teams_object_is_404(endpoint, role, org, world, api_for):
    api = api_for(getattr(org, role))
    ours, theirs = ONE_OF[endpoint](world["a"]), ONE_OF[endpoint](world["b"])

    assert api.get(f"{API}/{endpoint}/{ours.pk}/").status_code == 200
    assert api.get(f"{API}/{endpoint}/{theirs.pk}/").status_code == 404


def writes(world, customer: str) -> list[tuple[str, str, dict]]:
    """Every write the API offers, aimed at ``customer``'s objects."""
    c = world[customer]
    sub, churn = c.subscriptions.get().pk, c.churn_requests.get().pk
    today = timezone.localdate().isoformat()
    return [
        ("patch", f"customers/{c.pk}/", {"name": "Outro nome"}),
        ("patch", f"contacts/{c.contacts.get().pk}/", {"name": "Outro nome"}),
        ("post", f"subscriptions/{sub}/change/", {"effective_date": today, "amount_cents": 1}),
        ("post", f"subscriptions/{sub}/cancel/", {"end_date": today}),
        ("post", f"subscriptions/{sub}/delinquent/", {"since": today}),
        ("post", f"subscriptions/{sub}/paid/", {}),
        ("post", f"tasks/{c.tasks.filter(origin='manual').get().pk}/complete/", {}),
        ("post", f"churn-requests/{churn}/save-attempts/", {"offer": "Três meses com 30% de desconto"}),
        ("post", f"churn-requests/{churn}/resolve/", {"outcome": "churned"}),
    ]


WRITE_COUNT = 9


@pytest.mark.parametrize("index", range(WRITE_COUNT))
def test_writes_on_another_teams_objects_are_404_and_change_nothing(index, org, world, api_for):
    method, path, payload = writes(world, "b")[index]

    response = getattr(api_for(org.leader_a), method)(f"{API}/{path}", payload, format="json")

    assert response.status_code == 404
    customer = Customer.objects.get(pk=world["b"].pk)
    assert (customer.name, customer.stage, customer.mrr_cents) == ("Gama Saúde", Stage.ONBOARDING, 100_000)
    assert customer.subscriptions.get().status == SubscriptionStatus.ACTIVE


def creates(world) -> list[tuple[str, dict]]:
    c = world["a"].pk
    today = timezone.localdate().isoformat()
    return [
        ("customers", {"name": "Novo Cliente"}),
        ("contacts", {"customer": c, "name": "Ana"}),
        ("subscriptions", {"customer": c, "product": "Leme CRM", "amount_cents": 1, "start_date": today}),
        ("activities", {"customer": c, "kind": "note", "title": "Nota"}),
        ("tasks", {"customer": c, "title": "Ligar", "due_date": today}),
        ("churn-requests", {"customer": c, "kind": "voluntary", "reason": "budget-cut", "detail": CONCRETE}),
    ]


@pytest.mark.parametrize("role", ["viewer_a", "viewer_all"])
def test_viewers_read_but_every_write_is_403(role, org, world, api_for):
    api = api_for(getattr(org, role))
    statuses = [
        api.post(f"{API}/{endpoint}/", payload, format="json").status_code for endpoint, payload in creates(world)
    ]
    statuses += [
        getattr(api, method)(f"{API}/{path}", payload, format="json").status_code
        for method, path, payload in writes(world, "a")
    ]

    assert statuses == [403] * (len(creates(world)) + WRITE_COUNT)
    assert api.get(f"{API}/customers/{world['a'].pk}/").status_code == 200


@pytest.mark.parametrize("endpoint", [endpoint for endpoint, _ in LISTS])
def test_unauthenticated_is_401(endpoint, client):
    assert client.get(f"{API}/{endpoint}/").status_code == 401
    assert client.post(f"{API}/{endpoint}/", {}).status_code == 401


# --- Constant queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", [endpoint for endpoint, _ in LISTS])
def test_list_queries_stay_constant_as_rows_grow(endpoint, org, world, api_for, django_assert_num_queries):
    # given: the number of queries for the small set
    api = api_for(org.leader_a)
    with CaptureQueriesContext(connection) as few:
        small = api.get(f"{API}/{endpoint}/")
    assert small.status_code == 200
    assert {row["id"] for row in small.json()["results"]} >= {ONE_OF[endpoint](world[key]).pk for key in ("a", "a2")}
    # when: more customers, each with one of everything
    added = [populate(CustomerFactory(owner=org.csm_a2)) for _ in range(4)]
    # then: the same number of queries for more rows, and the new rows are in the answer
    with django_assert_num_queries(len(few)):
        response = api.get(f"{API}/{endpoint}/")
    assert response.status_code == 200
    assert response.json()["count"] >= small.json()["count"] + 4
    assert {row["id"] for row in response.json()["results"]} >= {ONE_OF[endpoint](c).pk for c in added}


# --- Customers ----------------------------------------------------------------------------------------------


def test_leader_creates_a_customer_for_their_team(org, api_for):
    response = api_for(org.leader_a).post(
        f"{API}/customers/",
        {
            "name": " Épsilon Indústria ",
            "cnpj": "11.222.333/0001-81",
            "segment": "enterprise",
            "service_model": "high",
            "owner": org.csm_a.pk,
            "implementation_manager": org.ism_a.pk,
            "external_id": "crm-42",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["cnpj"], body["stage"]) == ("Épsilon Indústria", "11222333000181", "onboarding")
    assert (body["owner"], body["implementation_manager"], body["farmer"]) == (org.csm_a.pk, org.ism_a.pk, None)
    customer = Customer.objects.get(pk=body["id"])
    assert customer.milestones.count() == 2
    assert customer.ownership_periods.get().owner == org.csm_a


@pytest.mark.parametrize(
    ("role", "field", "person"),
    [
        ("leader_a", "owner", "csm_b"),
        ("leader_a", "implementation_manager", "leader_b"),
        ("csm_a", "owner", "csm_a2"),
        ("csm_a", "farmer", "farmer_a"),
    ],
)
def test_people_outside_the_callers_scope_are_a_field_error(role, field, person, org, api_for):
    response = api_for(getattr(org, role)).post(
        f"{API}/customers/", {"name": "Zeta", field: getattr(org, person).pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {field: not_found()}
    assert not Customer.objects.filter(name="Zeta").exists()


def test_a_csm_may_not_create_customers_through_the_api(org, api_for):
    response = api_for(org.csm_a).post(f"{API}/customers/", {"name": "Zeta Ltda", "owner": org.csm_a.pk}, format="json")

    assert response.status_code == 403
    assert not Customer.objects.filter(name="Zeta Ltda").exists()


def test_customer_create_rejects_bad_input_field_by_field(org, api_for):
    response = api_for(org.admin).post(
        f"{API}/customers/",
        {"name": "", "segment": "huge", "start_date": "ontem", "owner": "abc", "renewal_date": 3},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"name", "segment", "start_date", "owner", "renewal_date"}


def test_service_refusals_become_field_errors(org, api_for):
    api = api_for(org.admin)
    CustomerFactory(name="Eta", external_id="crm-1")

    bad_cnpj = api.post(f"{API}/customers/", {"name": "Theta", "cnpj": "11.222.333/0001-82"}, format="json")
    taken = api.post(f"{API}/customers/", {"name": "Theta", "external_id": "crm-1"}, format="json")

    assert (bad_cnpj.status_code, list(bad_cnpj.json())) == (400, ["cnpj"])
    assert (taken.status_code, list(taken.json())) == (400, ["external_id"])


def test_csm_changes_descriptive_fields(org, world, api_for):
    response = api_for(org.csm_a).patch(
        f"{API}/customers/{world['a'].pk}/",
        {"name": "Alfa Log", "cnpj": "11.444.777/0001-61", "renewal_date": "2030-01-31", "segment": "enterprise"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    customer = Customer.objects.get(pk=world["a"].pk)
    assert (customer.name, customer.cnpj, str(customer.renewal_date), customer.segment) == (
        "Alfa Log",
        "11444777000161",
        "2030-01-31",
        "enterprise",
    )
    assert response.json()["name"] == "Alfa Log"


def test_customer_patch_refuses_owner_stage_and_people_out_of_scope(org, world, api_for):
    api = api_for(org.leader_a)
    url = f"{API}/customers/{world['a'].pk}/"

    owner = api.patch(url, {"owner": org.csm_a2.pk}, format="json")
    stage = api.patch(url, {"stage": "churned"}, format="json")
    farmer = api.patch(url, {"farmer": org.csm_b.pk}, format="json")

    assert (owner.status_code, list(owner.json())) == (400, ["owner"])
    assert (stage.status_code, list(stage.json())) == (400, ["stage"])
    assert (farmer.status_code, farmer.json()) == (400, {"farmer": not_found()})
    customer = Customer.objects.get(pk=world["a"].pk)
    assert (customer.owner, customer.stage, customer.farmer) == (org.csm_a, Stage.ONBOARDING, None)


def test_blank_external_ids_are_no_ids(org, world, api_for):
    # "" under a unique index would let only one customer or contact be without an external id.
    api = api_for(org.leader_a)

    customers = [
        api.patch(f"{API}/customers/{world[name].pk}/", {"external_id": ""}, format="json") for name in ("a", "a2")
    ]
    contacts = [
        api.post(f"{API}/contacts/", {"customer": world["a"].pk, "name": name, "external_id": ""}, format="json")
        for name in ("Ana", "Bia")
    ]

    assert [(r.status_code, r.json()["external_id"]) for r in customers] == [(200, None), (200, None)]
    assert [(r.status_code, r.json()["external_id"]) for r in contacts] == [(201, None), (201, None)]


def test_customers_cannot_be_replaced_or_deleted(org, world, api_for):
    api = api_for(org.admin)
    url = f"{API}/customers/{world['a'].pk}/"

    assert api.put(url, {"name": "X"}, format="json").status_code == 405
    assert api.delete(url).status_code == 405


def test_customer_filters_search_and_ordering(org, world, api_for):
    # given: Alfa is ongoing, Beta pays the most
    hand_off(world["a"], org.csm_a)
    subscribe(world["a2"], amount_cents=500_000, start=months_ago(1), product="Leme BI")
    services.customer_update(customer=world["b"], actor=org.admin, external_id="crm-gama")
    api = api_for(org.admin)

    def names(query: str) -> list[str]:
        return [row["name"] for row in api.get(f"{API}/customers/?{query}").json()["results"]]

    # then
    assert names("stage=ongoing") == ["Alfa Logística"]
    assert names(f"owner={org.csm_b.pk}") == ["Gama Saúde"]
    assert names("search=varejo") == ["Beta Varejo"]
    assert names("external_id=crm-gama") == ["Gama Saúde"]
    assert names("segment=mid&service_model=high") == ["Alfa Logística", "Beta Varejo", "Gama Saúde"]
    assert names("ordering=-mrr_cents")[0] == "Beta Varejo"
    assert api.get(f"{API}/customers/?owner=abc").status_code == 400


# --- Contacts -----------------------------------------------------------------------------------------------


def test_contact_create_and_update_through_the_services(org, world, api_for):
    api = api_for(org.csm_a)

    created = api.post(
        f"{API}/contacts/",
        {"customer": world["a"].pk, "name": "Ana Ribeiro", "email": "Ana@Alfa.com.br ", "role": "champion"},
        format="json",
    )
    updated = api.patch(f"{API}/contacts/{created.json()['id']}/", {"phone": "+55 11 99999-0000"}, format="json")

    assert created.status_code == 201, created.json()
    assert (created.json()["email"], created.json()["role"]) == ("ana@alfa.com.br", "champion")
    assert (updated.status_code, updated.json()["phone"]) == (200, "+55 11 99999-0000")


def test_contact_for_a_customer_outside_scope_is_not_found(org, world, api_for):
    response = api_for(org.leader_a).post(
        f"{API}/contacts/", {"customer": world["b"].pk, "name": "Intrusa"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"customer": not_found()}


def test_contact_bad_input_and_no_moving_or_deleting(org, world, api_for):
    api = api_for(org.leader_a)
    contact = world["a"].contacts.get()

    bad = api.post(f"{API}/contacts/", {"customer": "x", "email": "não é email", "role": "boss"}, format="json")
    moved = api.patch(f"{API}/contacts/{contact.pk}/", {"customer": world["a2"].pk}, format="json")
    deleted = api.delete(f"{API}/contacts/{contact.pk}/")

    assert (bad.status_code, set(bad.json())) == (400, {"customer", "name", "email", "role"})
    assert (moved.status_code, list(moved.json())) == (400, ["customer"])
    assert deleted.status_code == 405
    contact.refresh_from_db()
    assert contact.customer == world["a"]


# --- Subscriptions and the MRR ledger --------------------------------------------------------------------------


def test_subscriptions_drive_the_mrr_ledger_end_to_end(org, api_for):
    # given: a new customer of csm_a
    api = api_for(org.csm_a)
    customer = CustomerFactory(owner=org.csm_a)

    # when: it subscribes three months ago, grows two months ago and cancels a month ago
    created = api.post(
        f"{API}/subscriptions/",
        {
            "customer": customer.pk,
            "product": "Leme CRM",
            "plan": "Pro",
            "amount_cents": 100_000,
            "start_date": months_ago(3).isoformat(),
        },
        format="json",
    )
    old = created.json()["id"]
    changed = api.post(
        f"{API}/subscriptions/{old}/change/",
        {"effective_date": months_ago(2).isoformat(), "amount_cents": 150_000, "plan": "Business"},
        format="json",
    )
    new = changed.json()["id"]
    cancelled = api.post(f"{API}/subscriptions/{new}/cancel/", {"end_date": months_ago(1).isoformat()}, format="json")

    # then: the new row replaces the old one, and the ledger reads new → expansion → churn
    assert created.status_code == 201, created.json()
    assert (changed.status_code, changed.json()["replaces"], changed.json()["amount_cents"]) == (200, old, 150_000)
    assert new != old
    assert Subscription.objects.get(pk=old).status == SubscriptionStatus.REPLACED
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert movements(customer) == [
        (months_ago(3), "new", 100_000),
        (months_ago(2), "expansion", 50_000),
        (months_ago(1), "churn", 150_000),
    ]
    listed = api.get(f"{API}/mrr-movements/?customer={customer.pk}").json()["results"]
    assert [row["kind"] for row in listed] == ["new", "expansion", "churn"]


def test_customer_mrr_follows_its_subscriptions(org, api_for):
    api = api_for(org.csm_a)
    customer = CustomerFactory(owner=org.csm_a)

    api.post(
        f"{API}/subscriptions/",
        {
            "customer": customer.pk,
            "product": "Leme CRM",
            "amount_cents": 1_200_000,
            "billing_period": "annual",
            "start_date": months_ago(1).isoformat(),
        },
        format="json",
    )

    assert api.get(f"{API}/customers/{customer.pk}/").json()["mrr_cents"] == 100_000


def test_delinquent_and_paid(org, world, api_for, committed):
    api = api_for(org.csm_a)
    subscription = world["a"].subscriptions.get()
    since = (timezone.localdate() - timedelta(days=5)).isoformat()

    with committed():
        late = api.post(f"{API}/subscriptions/{subscription.pk}/delinquent/", {"since": since}, format="json")
    # the "Overdue payment" playbook follows it up
    follow_up = play_tasks(f"delinquency:{subscription.pk}:{since}").get()
    paid = api.post(f"{API}/subscriptions/{subscription.pk}/paid/")

    assert (late.status_code, late.json()["status"], late.json()["delinquent_since"]) == (200, "delinquent", since)
    assert follow_up.owner == org.csm_a
    assert (paid.status_code, paid.json()["status"], paid.json()["delinquent_since"]) == (200, "active", None)


def test_subscription_refusals_are_400_not_500(org, world, api_for):
    api = api_for(org.csm_a)
    subscription = world["a"].subscriptions.get()
    url = f"{API}/subscriptions/{subscription.pk}"

    too_early = api.post(
        f"{url}/change/", {"effective_date": months_ago(6).isoformat(), "amount_cents": 1}, format="json"
    )
    nothing = api.post(f"{url}/change/", {"effective_date": timezone.localdate().isoformat()}, format="json")
    api.post(f"{url}/cancel/", {"end_date": timezone.localdate().isoformat()}, format="json")
    ended = api.post(f"{url}/change/", {"effective_date": timezone.localdate().isoformat(), "plan": "X"}, format="json")
    late = api.post(f"{url}/delinquent/", {"since": "2024-01-01"}, format="json")

    assert (too_early.status_code, list(too_early.json())) == (400, ["effective_date"])
    assert (nothing.status_code, list(nothing.json())) == (400, ["non_field_errors"])
    assert (ended.status_code, list(ended.json())) == (400, ["non_field_errors"])
    assert (late.status_code, list(late.json())) == (400, ["non_field_errors"])


def test_subscription_create_rejects_bad_input_field_by_field(org, world, api_for):
    api = api_for(org.leader_a)

    bad_types = api.post(
        f"{API}/subscriptions/",
        {"customer": "um", "amount_cents": "muito", "start_date": "ontem", "billing_period": "weekly"},
        format="json",
    )
    out_of_scope = api.post(
        f"{API}/subscriptions/",
        {
            "customer": world["b"].pk,
            "product": "Leme CRM",
            "amount_cents": -5,
            "status": "cancelled",
            "start_date": "2025-01-01",
        },
        format="json",
    )
    ends_first = api.post(
        f"{API}/subscriptions/",
        {
            "customer": world["a"].pk,
            "product": "Leme CRM",
            "amount_cents": 5,
            "start_date": "2025-02-01",
            "end_date": "2025-01-01",
        },
        format="json",
    )

    too_much = api.post(
        f"{API}/subscriptions/",
        {"customer": world["a"].pk, "product": "Leme CRM", "amount_cents": 2**62, "start_date": "2025-01-01"},
        format="json",
    )

    assert bad_types.status_code == 400
    assert set(bad_types.json()) == {"customer", "product", "amount_cents", "start_date", "billing_period"}
    assert out_of_scope.status_code == 400
    assert out_of_scope.json()["customer"] == not_found()
    assert set(out_of_scope.json()) == {"customer", "amount_cents", "status"}
    assert (ends_first.status_code, list(ends_first.json())) == (400, ["non_field_errors"])
    assert (too_much.status_code, list(too_much.json())) == (400, ["amount_cents"])
    assert world["a"].subscriptions.count() == 1


def test_subscription_history_is_immutable(org, world, api_for):
    api = api_for(org.admin)
    url = f"{API}/subscriptions/{world['a'].subscriptions.get().pk}/"

    assert api.put(url, {"amount_cents": 1}, format="json").status_code == 405
    assert api.patch(url, {"amount_cents": 1}, format="json").status_code == 405
    assert api.delete(url).status_code == 405


def test_mrr_movement_filters(org, world, api_for):
    api = api_for(org.admin)
    subscribe(world["b"], amount_cents=50_000, start=months_ago(1), product="Leme BI")
    mid_month = (months_ago(3) + timedelta(days=14)).isoformat()

    new = api.get(f"{API}/mrr-movements/?month={mid_month}&kind=new").json()["results"]
    expansion = api.get(f"{API}/mrr-movements/?kind=expansion").json()["results"]

    by_month = api.get(f"{API}/mrr-movements/?month={months_ago(3):%Y-%m}").json()["results"]

    assert {row["customer"] for row in new} == {world["a"].pk, world["a2"].pk, world["b"].pk}
    assert [row["id"] for row in by_month] == [row["id"] for row in new]
    assert [(row["customer"], row["amount_cents"]) for row in expansion] == [(world["b"].pk, 50_000)]
    assert api.get(f"{API}/mrr-movements/?month=março").status_code == 400
    assert api.post(f"{API}/mrr-movements/", {}, format="json").status_code == 405


# --- Activities ------------------------------------------------------------------------------------------


def test_activity_create_records_the_author_and_the_last_touch(org, world, api_for):
    when = timezone.now() - timedelta(hours=2)

    response = api_for(org.csm_a).post(
        f"{API}/activities/",
        {"customer": world["a"].pk, "kind": "call", "title": "Ligação com a diretora", "happened_at": when.isoformat()},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["author"], response.json()["kind"]) == (org.csm_a.pk, "call")
    assert Customer.objects.get(pk=world["a"].pk).last_touch_at == when


def test_activity_external_id_makes_imports_idempotent(org, world, api_for):
    api = api_for(org.leader_a)
    payload = {"customer": world["a"].pk, "kind": "email", "title": "Proposta enviada", "external_id": "hubspot-7"}

    first = api.post(f"{API}/activities/", payload, format="json")
    again = api.post(f"{API}/activities/", payload, format="json")
    elsewhere = api.post(f"{API}/activities/", {**payload, "customer": world["a2"].pk}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert (elsewhere.status_code, list(elsewhere.json())) == (400, ["external_id"])
    assert Activity.objects.filter(external_id="hubspot-7").count() == 1


def test_activity_kinds_written_by_the_journey_are_refused(org, world, api_for):
    api = api_for(org.csm_a)

    stage = api.post(f"{API}/activities/", {"customer": world["a"].pk, "kind": "stage", "title": "X"}, format="json")
    outside = api.post(f"{API}/activities/", {"customer": world["b"].pk, "kind": "note", "title": "X"}, format="json")

    assert (stage.status_code, list(stage.json())) == (400, ["kind"])
    assert (outside.status_code, outside.json()) == (400, {"customer": not_found()})


def test_activity_filters(org, world, api_for):
    rows = api_for(org.admin).get(f"{API}/activities/?kind=note&customer={world['a2'].pk}").json()["results"]

    assert [(row["customer"], row["kind"]) for row in rows] == [(world["a2"].pk, "note")]


# --- Tasks ------------------------------------------------------------------------------------------------


def test_task_create_for_a_team_member_and_complete(org, world, api_for):
    api = api_for(org.leader_a)
    due = (timezone.localdate() + timedelta(days=3)).isoformat()

    created = api.post(
        f"{API}/tasks/",
        {"customer": world["a"].pk, "owner": org.csm_a.pk, "title": "Preparar revisão", "due_date": due},
        format="json",
    )
    done = api.post(f"{API}/tasks/{created.json()['id']}/complete/")

    assert created.status_code == 201, created.json()
    assert (created.json()["owner"], created.json()["created_by"], created.json()["status"]) == (
        org.csm_a.pk,
        org.leader_a.pk,
        "open",
    )
    assert (done.status_code, done.json()["status"]) == (200, "done")
    assert done.json()["completed_at"] is not None


def test_task_owner_defaults_to_the_caller_and_must_be_in_scope(org, world, api_for):
    api = api_for(org.csm_a)
    today = timezone.localdate().isoformat()

    mine = api.post(f"{API}/tasks/", {"customer": world["a"].pk, "title": "Ligar", "due_date": today}, format="json")
    theirs = api.post(
        f"{API}/tasks/",
        {"customer": world["a"].pk, "owner": org.csm_a2.pk, "title": "Ligar", "due_date": today},
        format="json",
    )
    bad = api.post(f"{API}/tasks/", {"customer": world["a"].pk, "title": "", "due_date": "amanhã"}, format="json")

    assert (mine.status_code, mine.json()["owner"]) == (201, org.csm_a.pk)
    assert (theirs.status_code, theirs.json()) == (400, {"owner": not_found()})
    assert (bad.status_code, set(bad.json())) == (400, {"title", "due_date"})


def test_task_filters(org, world, api_for):
    api = api_for(org.leader_a)
    today = timezone.localdate()
    later = services.task_create(
        customer=world["a"], owner=org.csm_a, title="Revisão", due_date=today + timedelta(days=10)
    )
    services.task_complete(task=world["a2"].tasks.filter(origin="manual").get(), actor=org.csm_a2)

    def ids(query: str) -> set[int]:
        return {row["id"] for row in api.get(f"{API}/tasks/?{query}").json()["results"]}

    assert ids(f"due_after={(today + timedelta(days=5)).isoformat()}") == {later.pk}
    assert later.pk not in ids(f"due_before={today.isoformat()}")
    assert ids("status=done") == {world["a2"].tasks.filter(origin="manual").get().pk}
    assert ids(f"owner={org.csm_a2.pk}") == set(world["a2"].tasks.values_list("pk", flat=True))
    assert api.get(f"{API}/tasks/?due_after=logo").status_code == 400


# --- Churn requests ---------------------------------------------------------------------------------------


def test_churn_request_open_end_to_end(org, ongoing, api_for, committed):
    with committed():
        response = api_for(org.csm_a).post(
            f"{API}/churn-requests/",
            {
                "customer": ongoing.pk,
                "kind": "voluntary",
                "reason": "missing-integration",
                "detail": CONCRETE,
                "requested_by": "Carla (CFO)",
            },
            format="json",
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["reason"], body["category"], body["outcome"]) == ("missing-integration", "product-gap", "open")
    assert (body["mrr_at_risk_cents"], body["opened_by"], body["save_attempts"]) == (100_000, org.csm_a.pk, [])
    task = churn_task(ChurnRequest.objects.get(pk=body["id"]))
    assert (task.owner, task.origin, task.due_date) == (org.csm_a, "playbook", timezone.localdate())


@pytest.mark.parametrize(
    "detail", ["Cliente não viu valor", "unknown", "Outros", "Doesn't want to pay", "não quer mais pagar"]
)
def test_vague_churn_detail_is_a_detail_field_error(detail, org, ongoing, api_for):
    response = api_for(org.csm_a).post(
        f"{API}/churn-requests/",
        {"customer": ongoing.pk, "kind": "voluntary", "reason": "budget-cut", "detail": detail},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["detail"]
    assert isinstance(response.json()["detail"], list)
    assert not ongoing.churn_requests.exists()


def test_churn_request_bad_input(org, world, ongoing, api_for):
    api = api_for(org.csm_a)

    unknown = api.post(
        f"{API}/churn-requests/",
        {"customer": ongoing.pk, "kind": "voluntary", "reason": "preguica", "detail": CONCRETE},
        format="json",
    )
    bad_types = api.post(
        f"{API}/churn-requests/", {"customer": [1], "kind": "talvez", "requested_on": "ontem"}, format="json"
    )
    second = api.post(
        f"{API}/churn-requests/",
        {"customer": world["a"].pk, "kind": "voluntary", "reason": "budget-cut", "detail": CONCRETE},
        format="json",
    )

    assert (unknown.status_code, list(unknown.json())) == (400, ["reason"])
    assert bad_types.status_code == 400
    assert set(bad_types.json()) == {"customer", "kind", "reason", "detail", "requested_on"}
    assert (second.status_code, list(second.json())) == (400, ["non_field_errors"])


def test_save_attempts(org, world, api_for):
    api = api_for(org.csm_a)
    churn = world["a"].churn_requests.get()

    made = api.post(f"{API}/churn-requests/{churn.pk}/save-attempts/", {"offer": "Integração via parceiro"})
    empty = api.post(f"{API}/churn-requests/{churn.pk}/save-attempts/", {"offer": "   "})
    shown = api.get(f"{API}/churn-requests/{churn.pk}/").json()["save_attempts"]

    assert (made.status_code, made.json()["offer"], made.json()["by"]) == (201, "Integração via parceiro", org.csm_a.pk)
    assert (empty.status_code, list(empty.json())) == (400, ["offer"])
    assert [attempt["offer"] for attempt in shown] == ["Integração via parceiro"]


def test_resolve_recovered_sends_the_customer_to_uti(org, ongoing, api_for):
    churn = open_churn(ongoing, org.csm_a)

    response = api_for(org.csm_a).post(f"{API}/churn-requests/{churn.pk}/resolve/", {"outcome": "recovered"})

    assert (response.status_code, response.json()["outcome"]) == (200, "recovered")
    assert Customer.objects.get(pk=ongoing.pk).stage == Stage.UTI
    assert UtiStay.objects.get(churn_request=churn).customer == ongoing


def test_resolve_downsell_records_a_contraction(org, ongoing, api_for):
    churn = open_churn(ongoing, org.csm_a)
    subscription = ongoing.subscriptions.get()

    response = api_for(org.csm_a).post(
        f"{API}/churn-requests/{churn.pk}/resolve/",
        {"outcome": "downsell", "downsell": [{"subscription": subscription.pk, "amount_cents": 60_000}]},
        format="json",
    )

    assert (response.status_code, response.json()["outcome"]) == (200, "downsell")
    customer = Customer.objects.get(pk=ongoing.pk)
    assert (customer.stage, customer.mrr_cents) == (Stage.UTI, 60_000)
    assert movements(customer)[-1] == (ledger.month_start(timezone.localdate()), "contraction", 40_000)


def test_resolve_churned_ends_every_subscription(org, ongoing, api_for):
    churn = open_churn(ongoing, org.csm_a)

    response = api_for(org.csm_a).post(
        f"{API}/churn-requests/{churn.pk}/resolve/",
        {"outcome": "churned", "effective_date": timezone.localdate().isoformat()},
        format="json",
    )

    assert (response.status_code, response.json()["outcome"]) == (200, "churned")
    customer = Customer.objects.get(pk=ongoing.pk)
    assert (customer.stage, customer.mrr_cents) == (Stage.CHURNED, 0)
    assert movements(customer)[-1] == (ledger.month_start(timezone.localdate()), "churn", 100_000)
    assert MrrMovement.objects.filter(customer=customer, kind="churn").count() == 1


def test_resolve_refusals_are_400(org, world, ongoing, api_for):
    # given: an open churn request, a subscription of it, and one of another team
    api = api_for(org.csm_a)
    churn = open_churn(ongoing, org.csm_a)
    ours = ongoing.subscriptions.get().pk
    theirs = world["b"].subscriptions.get().pk
    url = f"{API}/churn-requests/{churn.pk}/resolve/"

    # when
    bogus = api.post(url, {"outcome": "talvez"}, format="json")
    no_list = api.post(url, {"outcome": "downsell"}, format="json")
    higher = api.post(
        url, {"outcome": "downsell", "downsell": [{"subscription": ours, "amount_cents": 200_000}]}, format="json"
    )
    hidden = api.post(
        url, {"outcome": "downsell", "downsell": [{"subscription": theirs, "amount_cents": 1}]}, format="json"
    )
    twice = api.post(
        url,
        {"outcome": "downsell", "downsell": [{"subscription": ours, "amount_cents": 1}] * 2},
        format="json",
    )
    wrong_outcome = api.post(
        url, {"outcome": "recovered", "downsell": [{"subscription": ours, "amount_cents": 1}]}, format="json"
    )
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    future_save = api.post(url, {"outcome": "recovered", "effective_date": tomorrow}, format="json")
    api.post(url, {"outcome": "churned"}, format="json")
    closed = api.post(url, {"outcome": "recovered"}, format="json")

    # then
    assert (bogus.status_code, list(bogus.json())) == (400, ["outcome"])
    assert (no_list.status_code, list(no_list.json())) == (400, ["non_field_errors"])
    assert (higher.status_code, list(higher.json())) == (400, ["downsell"])
    assert (hidden.status_code, hidden.json()) == (400, {"downsell": {"0": {"subscription": not_found()}}})
    assert (twice.status_code, list(twice.json())) == (400, ["downsell"])
    assert (wrong_outcome.status_code, list(wrong_outcome.json())) == (400, ["downsell"])
    assert (future_save.status_code, list(future_save.json())) == (400, ["effective_date"])
    assert (closed.status_code, list(closed.json())) == (400, ["non_field_errors"])


# --- The schema ---------------------------------------------------------------------------------------------


def test_schema_is_served_to_authenticated_users(org, api_for, client):
    response = api_for(org.csm_a).get(f"{API}/schema/")

    assert response.status_code == 200
    assert b"/api/v1/churn-requests/{id}/resolve/" in response.content
    assert client.get(f"{API}/schema/").status_code in (401, 403)


def test_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").stat().st_size > 0


def test_activity_create_names_the_contact_it_was_with(org, world, api_for):
    api = api_for(org.csm_a)
    ana = ContactFactory(customer=world["a"], name="Ana Souza")
    stranger = ContactFactory(customer=world["a2"])

    with_ana = api.post(
        f"{API}/activities/", {"customer": world["a"].pk, "kind": "call", "title": "Retorno", "contact": ana.pk}
    )
    elsewhere = api.post(
        f"{API}/activities/", {"customer": world["a"].pk, "kind": "call", "title": "X", "contact": stranger.pk}
    )

    assert (with_ana.status_code, with_ana.json()["contact"]) == (201, ana.pk)
    assert Activity.objects.get(pk=with_ana.json()["id"]).contact == ana
    assert (elsewhere.status_code, list(elsewhere.json())) == (400, ["contact"])
