"""Reads about customers, through portfolio.selectors: who sees which customers (and the rows that hang
off them), the portfolio list's filters and sorts, my day, a customer's MRR history, and the pages' selectors."""

import copy
import pickle
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from accounts.access import visible_filter
from accounts.models import Role, User
from portfolio import ledger, selectors, services
from portfolio.models import Activity, ChurnKind, ChurnOutcome, ChurnReason, Customer, ServiceModel, Stage
from portfolio.selectors import PortfolioFilters
from portfolio.selectors.scope import CUSTOMER_PEOPLE
from tests.portfolio.factories import ContactFactory, CustomerFactory, churn_task, hand_off, subscribe

pytestmark = pytest.mark.django_db

CONCRETE_DETAIL = "Precisa de integração com o SAP B1; o novo CFO cortou as ferramentas que não conversam com ele"


def today():
    return timezone.localdate()


def names(rows) -> set[str]:
    return {row.name for row in rows}


def customer_names(rows) -> set[str]:
    return {row.customer.name for row in rows}


def open_churn(customer, actor):
    return services.churn_request_open(
        customer=customer,
        kind=ChurnKind.VOLUNTARY,
        reason=ChurnReason.objects.get(code="missing-integration"),
        detail=CONCRETE_DETAIL,
        actor=actor,
    )


# --- Who sees which customers ------------------------------------------------------------------------------


@pytest.fixture
def book(org):
    """One customer per way of being responsible for it, in both teams, and one nobody is responsible for."""
    hand_off(CustomerFactory(name="Owned by csm_a", implementation_manager=org.ism_a), org.csm_a, actor=org.ism_a)
    CustomerFactory(name="Implemented by csm_a", implementation_manager=org.csm_a)
    CustomerFactory(name="Farmed by csm_a", farmer=org.csm_a)
    CustomerFactory(name="Owned by csm_a2", owner=org.csm_a2)
    CustomerFactory(name="Owned by csm_b", owner=org.csm_b)
    CustomerFactory(name="Unassigned")
    return org


CSM_A = {"Owned by csm_a", "Implemented by csm_a", "Farmed by csm_a"}
TEAM_A = {*CSM_A, "Owned by csm_a2"}
EVERYONE = {*TEAM_A, "Owned by csm_b", "Unassigned"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("csm_a", CSM_A),
        ("csm_a2", {"Owned by csm_a2"}),
        ("ism_a", {"Owned by csm_a"}),
        ("leader_a", TEAM_A),
        ("leader_b", {"Owned by csm_b"}),
        ("admin", EVERYONE),
        ("viewer_a", TEAM_A),
        ("viewer_all", EVERYONE),
    ],
)
def test_customers_visible_to_each_role(book, who, expected):
    assert names(selectors.customers_visible_to(getattr(book, who))) == expected


def test_an_inactive_user_sees_no_customers(book):
    book.csm_a.is_active = False
    book.csm_a.save(update_fields=["is_active"])

    assert not selectors.customers_visible_to(book.csm_a).exists()


@pytest.mark.parametrize("who", ["viewer_a", "viewer_all"])
def test_viewers_change_no_customers(book, who):
    assert not selectors.customers_changeable_by(getattr(book, who)).exists()


def test_others_change_what_they_see(book):
    assert names(selectors.customers_changeable_by(book.csm_a)) == CSM_A
    assert names(selectors.customers_changeable_by(book.leader_a)) == TEAM_A


# The door is built once per person object (accounts.access.remembered), for a page's dozen lists; what it keeps
# must still follow the person's role, team and active flag, and the teams' people as they are when each query runs.


def test_the_door_is_built_once_per_person_object_and_each_call_is_a_fresh_queryset(book, django_assert_num_queries):
    leader = User.objects.get(pk=book.leader_a.pk)

    with django_assert_num_queries(0):
        first, second = selectors.customers_visible_to(leader), selectors.customers_visible_to(leader)
        door = visible_filter(leader, people=CUSTOMER_PEOPLE)

    assert visible_filter(leader, people=list(CUSTOMER_PEOPLE)) is door
    assert first is not second
    assert names(first.filter(name__startswith="Owned")) == {"Owned by csm_a", "Owned by csm_a2"}
    assert names(second) == TEAM_A
    # another object for the same person builds its own
    assert visible_filter(User.objects.get(pk=book.leader_a.pk), people=CUSTOMER_PEOPLE) is not door


def test_the_door_follows_a_role_team_or_active_change_on_the_same_person_object(book):
    leader = User.objects.get(pk=book.leader_a.pk)
    assert names(selectors.customers_visible_to(leader)) == TEAM_A

    leader.team = book.team_b  # she moves to team B, still leading team A (its leader field)
    assert names(selectors.customers_visible_to(leader)) == {*TEAM_A, "Owned by csm_b"}
    leader.role = Role.CSM  # and is a CSM now: her own customers only (none)
    assert names(selectors.customers_visible_to(leader)) == set()
    assert names(selectors.tasks_visible_to(leader)) == set()
    leader.role = Role.LEADER
    leader.is_active = False
    assert not selectors.customers_visible_to(leader).exists()


def test_the_door_reads_the_teams_people_when_each_query_runs(book):
    # given team A's leader, her door already built
    leader = User.objects.get(pk=book.leader_a.pk)
    assert names(selectors.customers_visible_to(leader)) == TEAM_A

    # when Camila (team B) joins team A, and Lucas leaves it
    User.objects.filter(pk=book.csm_b.pk).update(team=book.team_a)
    User.objects.filter(pk=book.csm_a.pk).update(team=None)

    # then the same person object sees Camila's customer, and no longer Lucas's
    assert names(selectors.customers_visible_to(leader)) == {"Owned by csm_a2", "Owned by csm_b"}


def test_copying_or_pickling_a_person_runs_nothing_and_carries_no_door(book, django_assert_num_queries):
    leader = User.objects.get(pk=book.leader_a.pk)
    door = visible_filter(leader, people=CUSTOMER_PEOPLE)
    selectors.customers_visible_to(leader)

    with django_assert_num_queries(0):
        copies = [pickle.loads(pickle.dumps(leader)), copy.deepcopy(leader)]  # noqa: S301 - our own object

    for other in copies:
        assert visible_filter(other, people=CUSTOMER_PEOPLE) is not door
        assert names(selectors.customers_visible_to(other)) == TEAM_A
    # a shallow copy shares what was built, for as long as its role, team and active flag are the same
    moved = copy.copy(leader)
    moved.team = book.team_b
    assert names(selectors.customers_visible_to(moved)) == {*TEAM_A, "Owned by csm_b"}
    assert names(selectors.customers_visible_to(leader)) == TEAM_A


@pytest.fixture
def book_with_rows(book):
    """Every customer of the book with a contact, a subscription, a task and an open churn request."""
    for customer in selectors.customers_visible_to(book.admin):
        ContactFactory(customer=customer)
        subscribe(customer)
        services.task_create(customer=customer, owner=book.admin, title="Revisar conta", due_date=today())
        open_churn(customer, book.admin)
    return book


@pytest.mark.parametrize(
    "selector",
    [
        selectors.contacts_visible_to,
        selectors.subscriptions_visible_to,
        selectors.tasks_visible_to,
        selectors.churn_requests_visible_to,
    ],
)
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("csm_a", CSM_A),
        ("leader_a", TEAM_A),
        ("leader_b", {"Owned by csm_b"}),
        ("viewer_a", TEAM_A),
        ("admin", EVERYONE),
    ],
)
def test_rows_about_customers_follow_the_customer_scope(book_with_rows, selector, who, expected):
    assert customer_names(selector(getattr(book_with_rows, who)).select_related("customer")) == expected


# --- The portfolio list ---------------------------------------------------------------------------------------


@pytest.fixture
def portfolio(org):
    """Three customers that differ in everything the list filters and sorts on."""
    padaria = CustomerFactory(
        name="Padaria Pão Quente",
        cnpj="11.222.333/0001-81",
        service_model=ServiceModel.HIGH_TOUCH,
        renewal_date=today() + timedelta(days=90),
    )
    subscribe(padaria, amount_cents=300_000)
    hand_off(padaria, org.csm_a, actor=org.leader_a)
    clinica = CustomerFactory(
        name="Clínica Sorriso",
        cnpj="11.444.777/0001-61",
        service_model=ServiceModel.LOW_TOUCH,
        owner=org.csm_a2,
        renewal_date=today() + timedelta(days=30),
    )
    subscribe(clinica, amount_cents=100_000)
    oficina = CustomerFactory(name="Oficina Rápida", service_model=ServiceModel.TECH_TOUCH, renewal_date=None)
    subscribe(oficina, amount_cents=200_000)
    return org


def listed(user, **filters) -> list[str]:
    return [c.name for c in selectors.portfolio_list(user, PortfolioFilters(**filters))]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"q": "padaria"}, ["Padaria Pão Quente"]),
        ({"q": "11.222.333"}, ["Padaria Pão Quente"]),
        ({"q": "11444777000161"}, ["Clínica Sorriso"]),
        ({"stage": Stage.ONGOING}, ["Padaria Pão Quente"]),
        ({"stage": Stage.ONBOARDING}, ["Clínica Sorriso", "Oficina Rápida"]),
        ({"service_model": ServiceModel.TECH_TOUCH}, ["Oficina Rápida"]),
    ],
)
def test_portfolio_list_filters(portfolio, filters, expected):
    assert listed(portfolio.admin, **filters) == expected


def test_portfolio_list_filters_by_owner(portfolio):
    assert listed(portfolio.admin, owner=portfolio.csm_a2.pk) == ["Clínica Sorriso"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("mrr", ["Clínica Sorriso", "Oficina Rápida", "Padaria Pão Quente"]),
        ("-mrr", ["Padaria Pão Quente", "Oficina Rápida", "Clínica Sorriso"]),
        ("renewal", ["Clínica Sorriso", "Padaria Pão Quente", "Oficina Rápida"]),
        ("-renewal", ["Padaria Pão Quente", "Clínica Sorriso", "Oficina Rápida"]),
    ],
)
def test_portfolio_list_sorts_with_unknown_renewals_last(portfolio, sort, expected):
    assert listed(portfolio.admin, sort=sort) == expected


def test_portfolio_list_stays_in_the_users_scope(portfolio):
    assert listed(portfolio.csm_a, q="Clínica") == []
    assert listed(portfolio.csm_a2, q="Clínica") == ["Clínica Sorriso"]


# --- My day ----------------------------------------------------------------------------------------------------


@dataclass
class Day:
    """What my_day should and should not show csm_a."""

    tasks: list
    review: object
    uti: object
    milestone: object
    churn_request: object


@pytest.fixture
def day(org, committed) -> Day:
    """csm_a's work for today, next to work that is not for today and work that is csm_a2's."""
    # A customer with tasks and a success review due within two weeks.
    mine = CustomerFactory(name="Padaria Pão Quente", implementation_manager=org.ism_a)
    hand_off(mine, org.csm_a, actor=org.ism_a)
    review = services.review_schedule(customer=mine, due_date=today() + timedelta(days=7), actor=org.csm_a)
    overdue = services.task_create(
        customer=mine, owner=org.csm_a, title="Atrasada", due_date=today() - timedelta(days=2)
    )
    due_today = services.task_create(customer=mine, owner=org.csm_a, title="Hoje", due_date=today())
    services.task_create(customer=mine, owner=org.csm_a, title="Semana que vem", due_date=today() + timedelta(days=7))
    done = services.task_create(customer=mine, owner=org.csm_a, title="Feita", due_date=today() - timedelta(days=1))
    services.task_complete(task=done, actor=org.csm_a)
    # A customer in UTI: its recovery check-ins are due from next week.
    saved = CustomerFactory(name="Clínica Sorriso", implementation_manager=org.ism_a)
    subscribe(saved)
    hand_off(saved, org.csm_a, actor=org.ism_a)
    saved.refresh_from_db()
    with committed():
        uti = services.churn_request_resolve(
            churn_request=open_churn(saved, org.csm_a), outcome=ChurnOutcome.RECOVERED, actor=org.csm_a
        )
    # A customer onboarding with csm_a as its ISM: first value due in five days, first success later.
    onboarding = CustomerFactory(
        name="Oficina Rápida", implementation_manager=org.csm_a, start_date=today() - timedelta(days=5)
    )
    milestone = onboarding.milestones.get(kind="first_value")
    # A customer asking to cancel: opening the request gives csm_a a task due today.
    leaving = CustomerFactory(name="Loja Bela", owner=org.csm_a)
    with committed():
        churn_request = open_churn(leaving, org.csm_a)
    leaving_task = churn_task(churn_request)
    # csm_a2's work is not csm_a's.
    theirs = CustomerFactory(name="Mercado Bom", owner=org.csm_a2, start_date=today() - timedelta(days=5))
    services.task_create(customer=theirs, owner=org.csm_a2, title="Deles", due_date=today())
    with committed():
        open_churn(theirs, org.csm_a2)
    return Day(
        tasks=[overdue, due_today, leaving_task],
        review=review,
        uti=uti,
        milestone=milestone,
        churn_request=churn_request,
    )


def test_my_day_shows_the_persons_overdue_and_todays_work(org, day):
    # when
    result = selectors.my_day(org.csm_a)

    # then
    assert result["today"] == today()
    assert [t.pk for t in result["tasks"]] == [t.pk for t in day.tasks]
    assert [r.pk for r in result["reviews"]] == [day.review.pk]
    assert [s.pk for s in result["uti"]] == [day.uti.pk]
    assert [m.pk for m in result["milestones"]] == [day.milestone.pk]
    assert [c.pk for c in result["churn_requests"]] == [day.churn_request.pk]


def test_my_day_of_a_colleague_shows_only_their_own_work(org, day):
    result = selectors.my_day(org.csm_a2)

    assert [t.customer.name for t in result["tasks"]] == ["Mercado Bom", "Mercado Bom"]
    assert (result["reviews"], result["uti"]) == ([], [])
    assert [m.customer.name for m in result["milestones"]] == ["Mercado Bom"]
    assert [c.customer.name for c in result["churn_requests"]] == ["Mercado Bom"]


def test_my_day_leaves_tomorrows_tasks_for_tomorrow(org):
    customer = CustomerFactory(owner=org.csm_a)
    services.task_create(customer=customer, owner=org.csm_a, title="Amanhã", due_date=today() + timedelta(days=1))

    assert selectors.my_day(org.csm_a)["tasks"] == []


# --- MRR history ------------------------------------------------------------------------------------------------


def test_mrr_history_gives_month_end_levels_carrying_the_level_in(org):
    # given: paying since three months ago, upgraded last month
    this_month = ledger.month_start(today())
    customer = CustomerFactory(start_date=ledger.add_months(this_month, -3))
    subscription = subscribe(customer, amount_cents=100_000, start=ledger.add_months(this_month, -3))
    services.subscription_change(
        subscription=subscription, actor=None, effective_date=ledger.add_months(this_month, -1), amount_cents=150_000
    )

    # when
    history = selectors.mrr_history(customer, months=3)

    # then
    assert history == [
        {"month": ledger.add_months(this_month, -2), "mrr_cents": 100_000, "kind": None},
        {"month": ledger.add_months(this_month, -1), "mrr_cents": 150_000, "kind": "expansion"},
        {"month": this_month, "mrr_cents": 150_000, "kind": None},
    ]


def test_mrr_history_starts_at_zero_before_the_first_payment(org):
    this_month = ledger.month_start(today())
    customer = CustomerFactory(start_date=this_month)
    subscribe(customer, amount_cents=100_000, start=this_month)

    history = selectors.mrr_history(customer, months=2)

    assert [(h["mrr_cents"], h["kind"]) for h in history] == [(0, None), (100_000, "new")]


# --- Page selectors ----------------------------------------------------------------------------------------------


def test_customer_page_reads_the_journey_state(org):
    # given an ongoing customer with a decision maker, two subscriptions (one cancelled) and an open churn request
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    running = subscribe(customer, amount_cents=100_000)
    extra = subscribe(customer, amount_cents=30_000, product="Extra")
    services.subscription_cancel(subscription=extra, actor=None, end_date=today())
    ContactFactory(customer=customer, role="decision_maker")
    request = open_churn(customer, org.csm_a)

    # when
    page = selectors.customer_page(org.csm_a, customer.pk)

    # then
    assert page.customer == customer
    assert page.coverage == {"decision_maker": True, "champion": False}
    assert [s.pk for s in page.running_subscriptions] == [running.pk]
    assert list(page.running_subscription_choices) == [running]
    assert page.open_churn == request
    assert page.uti is None
    assert page.next_review == customer.reviews.get(status="scheduled")
    assert page.mrr_max == max(h["mrr_cents"] for h in page.mrr_history)
    assert len(page.mrr_history) == 12
    assert page.can_write


def test_customer_page_shows_the_open_uti_stay_and_no_open_churn(org):
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    services.churn_request_resolve(churn_request=open_churn(customer, org.csm_a), outcome="recovered", actor=org.csm_a)

    page = selectors.customer_page(org.viewer_a, customer.pk)

    assert page.open_churn is None
    assert page.uti == customer.uti_stays.get()
    assert not page.can_write


def test_customer_page_filters_the_timeline_by_kind(org):
    customer = CustomerFactory(owner=org.csm_a)
    services.activity_log(customer=customer, kind="call", title="Ligação", author=org.csm_a)

    page = selectors.customer_page(org.csm_a, customer.pk, timeline_kind="call")

    assert [a.title for a in page.timeline] == ["Ligação"]
    assert page.timeline_kind == "call"


def test_customer_page_of_another_team_is_404(org):
    customer = CustomerFactory(owner=org.csm_b)

    with pytest.raises(Http404):
        selectors.customer_page(org.csm_a, customer.pk)
    with pytest.raises(Http404):
        selectors.customer_get(org.viewer_a, CustomerFactory(owner=org.csm_a).pk, to_change=True)


def test_portfolio_page_counts_every_match_and_pages_them(org):
    for n in range(3):
        subscribe(CustomerFactory(name=f"Loja {n}", owner=org.csm_a), amount_cents=100_000)

    page = selectors.portfolio_page(org.leader_a, PortfolioFilters(q="Loja"), page_number=2, per_page=2)

    assert page.totals == {"count": 3, "mrr_cents": 300_000}
    assert [c.name for c in page.page] == ["Loja 2"]
    assert page.can_reassign
    assert org.csm_a2 in page.assignees


def test_uti_board_pages_the_open_stays_and_lists_the_exits(org):
    # given two customers in UTI and one that left it
    stays = []
    for name in ("Fica", "Também fica", "Saiu"):
        customer = CustomerFactory(name=name, owner=org.csm_a)
        hand_off(customer, org.csm_a)
        stays.append(
            services.churn_request_resolve(
                churn_request=open_churn(customer, org.csm_a), outcome="recovered", actor=org.csm_a
            )
        )
    services.uti_exit(stay=stays[2], decision="recovered", actor=org.csm_a)

    # when
    board = selectors.uti_board(org.leader_a, page_number=1, per_page=1)

    # then
    assert board.outcomes["in_uti"] == 2
    assert board.page.paginator.num_pages == 2
    assert [s.customer.name for s in board.recent] == ["Saiu"]


# --- The stage a customer had on a past day ---------------------------------------------------------------------


def _at(day, hour=10):
    from datetime import datetime

    from core import clock

    return clock.at(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone()))


def _churn(customer, outcome, day, actor):
    with _at(day):
        request = services.churn_request_open(
            customer=customer, kind=ChurnKind.VOLUNTARY, reason=ChurnReason.objects.get(code="budget-cut"),
            detail="Fusão com outra rede cortou o orçamento de ferramentas em 40%", actor=actor,
        )  # fmt: skip
        return services.churn_request_resolve(churn_request=request, outcome=outcome, actor=actor)


@pytest.mark.django_db
def test_stage_on_reads_each_customers_stage_of_a_past_day_from_its_timeline(org):
    # given, through the services (each change logged on the timeline):
    from datetime import date

    from portfolio.models import ChurnCategory, ServiceModelPolicy, UtiExit
    from portfolio.taxonomy import install_defaults

    install_defaults(ChurnCategory, ChurnReason, ServiceModelPolicy)
    csm = org.csm_a
    # Aurora: onboarding from 10 January, ongoing from its handoff on 1 March, UTI on 5 May, ongoing on 1 June
    with _at(date(2025, 1, 10)):
        aurora = CustomerFactory(name="Aurora", owner=csm, start_date=date(2025, 1, 10))
    with _at(date(2025, 3, 1)):
        hand_off(aurora, csm, held_on=date(2025, 3, 1))
    stay = _churn(aurora, ChurnOutcome.RECOVERED, date(2025, 5, 5), csm)
    with _at(date(2025, 6, 1)):
        services.uti_exit(stay=stay, decision=UtiExit.RECOVERED, actor=csm)
    # Brisa: ongoing from 1 February, churned on 20 April
    with _at(date(2025, 1, 5)):
        brisa = CustomerFactory(name="Brisa", owner=csm, start_date=date(2025, 1, 5))
    with _at(date(2025, 2, 1)):
        hand_off(brisa, csm, held_on=date(2025, 2, 1))
    _churn(brisa, ChurnOutcome.CHURNED, date(2025, 4, 20), csm)
    # Cedro: onboarding since 1 April, never changed
    with _at(date(2025, 4, 1)):
        cedro = CustomerFactory(name="Cedro", owner=csm, start_date=date(2025, 4, 1))
    customers = selectors.customers_visible_to(org.leader_a).filter(pk__in=[aurora.pk, brisa.pk, cedro.pk])

    # when the stage of each is asked for on five days
    days = [date(2025, 2, 15), date(2025, 3, 1), date(2025, 4, 20), date(2025, 5, 31), date(2025, 6, 1)]
    stages = {
        day: dict(selectors.stage_on(customers, day).values_list("name", "stage_on_day").order_by("name"))
        for day in days
    }

    # then each is the stage its timeline shows at the end of that day (a change on the day counts)
    assert stages == {
        date(2025, 2, 15): {"Aurora": Stage.ONBOARDING, "Brisa": Stage.ONGOING, "Cedro": Stage.ONBOARDING},
        date(2025, 3, 1): {"Aurora": Stage.ONGOING, "Brisa": Stage.ONGOING, "Cedro": Stage.ONBOARDING},
        date(2025, 4, 20): {"Aurora": Stage.ONGOING, "Brisa": Stage.CHURNED, "Cedro": Stage.ONBOARDING},
        date(2025, 5, 31): {"Aurora": Stage.UTI, "Brisa": Stage.CHURNED, "Cedro": Stage.ONBOARDING},
        date(2025, 6, 1): {"Aurora": Stage.ONGOING, "Brisa": Stage.CHURNED, "Cedro": Stage.ONBOARDING},
    }
    assert (aurora.__class__.objects.get(pk=aurora.pk).stage, brisa.__class__.objects.get(pk=brisa.pk).stage) == (
        Stage.ONGOING,
        Stage.CHURNED,
    )

    # and those in ongoing or the UTI on each day are the same, read as a filter (``in_stage_on``); Duna, ongoing
    # with no change logged (an imported timeline) but a stage change stamped after every day, keeps its stage
    duna = CustomerFactory(name="Duna", owner=csm, start_date=date(2025, 1, 2))
    Activity.objects.filter(customer=duna).delete()
    Customer.objects.filter(pk=duna.pk).update(
        stage=Stage.ONGOING, stage_changed_at=timezone.now() + timedelta(days=400)
    )
    customers = selectors.customers_visible_to(org.leader_a).filter(pk__in=[aurora.pk, brisa.pk, cedro.pk, duna.pk])
    ongoing = {
        day: sorted(selectors.in_stage_on(customers, day, [Stage.ONGOING, Stage.UTI]).values_list("name", flat=True))
        for day in days
    }
    assert ongoing == {
        date(2025, 2, 15): ["Brisa", "Duna"],
        date(2025, 3, 1): ["Aurora", "Brisa", "Duna"],
        date(2025, 4, 20): ["Aurora", "Duna"],
        date(2025, 5, 31): ["Aurora", "Duna"],
        date(2025, 6, 1): ["Aurora", "Duna"],
    }
    assert dict(
        selectors.stage_on(customers.filter(pk=duna.pk), date(2025, 2, 15)).values_list("name", "stage_on_day")
    ) == {"Duna": Stage.ONGOING}
    # and today, which is not over, each is in the stage it has now (Aurora ongoing, Brisa churned, Cedro onboarding,
    # Duna ongoing), whatever its timeline says: no change of today is yet to come
    Customer.objects.filter(pk=cedro.pk).update(stage=Stage.UTI)  # a move the timeline never logged
    with _at(date(2025, 6, 2)):
        assert sorted(
            selectors.in_stage_on(customers, date(2025, 6, 2), [Stage.ONGOING, Stage.UTI]).values_list(
                "name", flat=True
            )
        ) == ["Aurora", "Cedro", "Duna"]


@pytest.mark.django_db
def test_in_stage_on_looks_each_customer_up_instead_of_building_a_set_of_every_customer_that_moved(org):
    # given every customer, on a day long past
    from datetime import date

    customers = Customer.objects.all()

    # when those in ongoing or the UTI on that day are asked for
    sql = str(selectors.in_stage_on(customers, date(2024, 6, 30), [Stage.ONGOING, Stage.UTI]).query)

    # then each customer's own stage changes are looked up (EXISTS, then its last change before the day), and no set
    # of every customer that logs a change is built: such a set grows with the workspace and, once it no longer
    # fits in PostgreSQL's work_mem, is scanned whole for each customer
    assert "EXISTS(SELECT" in sql.replace("EXISTS (SELECT", "EXISTS(SELECT")
    assert '"portfolio_activity"' in sql
    assert " IN (SELECT" not in sql
