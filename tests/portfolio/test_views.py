"""Pages of the portfolio: who sees what, forms that keep what was typed, constant query counts."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portfolio import services
from portfolio.models import ChurnReason, Customer, Stage, UtiStay
from portfolio.selectors import PAGE_SIZES
from portfolio.selectors import day as day_selectors
from tests.portfolio.factories import ContactFactory, CustomerFactory, hand_off, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org):
    """Customers across both teams: csm_a owns two, csm_a2 one, ism_a implements one, csm_b owns one."""
    return {
        "a1": CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a, implementation_manager=org.ism_a),
        "a2": CustomerFactory(name="Clínica Bem Viver", owner=org.csm_a),
        "a3": CustomerFactory(name="Transportadora Rio Sul", owner=org.csm_a2),
        "b1": CustomerFactory(name="Mercado Bom Preço", owner=org.csm_b),
    }


def listed(response) -> set[str]:
    return {
        name
        for name in ("Padaria Pão Dourado", "Clínica Bem Viver", "Transportadora Rio Sul", "Mercado Bom Preço")
        if name in response.text
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("csm_a", {"Padaria Pão Dourado", "Clínica Bem Viver"}),
        ("ism_a", {"Padaria Pão Dourado"}),
        ("leader_a", {"Padaria Pão Dourado", "Clínica Bem Viver", "Transportadora Rio Sul"}),
        ("leader_b", {"Mercado Bom Preço"}),
        ("viewer_a", {"Padaria Pão Dourado", "Clínica Bem Viver", "Transportadora Rio Sul"}),
        ("viewer_all", {"Padaria Pão Dourado", "Clínica Bem Viver", "Transportadora Rio Sul", "Mercado Bom Preço"}),
        ("admin", {"Padaria Pão Dourado", "Clínica Bem Viver", "Transportadora Rio Sul", "Mercado Bom Preço"}),
        ("farmer_a", set()),
    ],
)
def test_portfolio_page_shows_exactly_the_scope(org, book, client_for, who, expected):
    response = client_for(getattr(org, who)).get("/portfolio/")
    assert response.status_code == 200
    assert listed(response) == expected


@pytest.mark.parametrize("who", ["csm_a", "ism_a", "leader_a", "viewer_a"])
def test_another_teams_customer_is_404_everywhere(org, book, client_for, who):
    client = client_for(getattr(org, who))
    b1 = book["b1"]
    assert client.get(f"/customers/{b1.pk}/").status_code == 404
    assert client.post(f"/customers/{b1.pk}/activities/", {"kind": "note", "title": "x"}).status_code in (403, 404)
    assert client.get(f"/customers/{b1.pk}/handoff/").status_code in (403, 404)


def test_csm_does_not_see_a_teammates_customer(org, book, client_for):
    assert client_for(org.csm_a).get(f"/customers/{book['a3'].pk}/").status_code == 404


def test_viewer_reads_but_cannot_change(org, book, client_for):
    client = client_for(org.viewer_a)
    page = client.get(f"/customers/{book['a1'].pk}/")
    assert page.status_code == 200
    assert f'action="/customers/{book["a1"].pk}/activities/"' not in page.text
    assert f'action="/customers/{book["a1"].pk}/churn/"' not in page.text
    assert f'"/customers/{book["a1"].pk}/churn/"' not in page.text  # nor the panel that asks for the form
    assert client.post(f"/customers/{book['a1'].pk}/activities/", {"kind": "note", "title": "Oi"}).status_code == 403
    assert not book["a1"].activities.filter(title="Oi").exists()


def test_customer_page_shows_the_journey(org, book, client_for):
    customer = book["a1"]
    subscribe(customer, amount_cents=250_000)
    ContactFactory(customer=customer, name="Ana Diretora", role="decision_maker")
    page = client_for(org.csm_a).get(f"/customers/{customer.pk}/")
    assert page.status_code == 200
    for text in (
        "Padaria Pão Dourado",
        "Primeiro valor",
        "Registrar a passagem de bastão",
        "Ana Diretora",
        "R$\xa02.500,00",
    ):
        assert text in page.text


def test_note_logged_inline_with_htmx_returns_the_timeline(org, book, client_for):
    client = client_for(org.csm_a)
    response = client.post(
        f"/customers/{book['a1'].pk}/activities/",
        {"kind": "call", "title": "Ligação de acompanhamento", "body": "Cliente feliz com o funil"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card area-timeline"')
    assert "Ligação de acompanhamento" in response.text
    customer = Customer.objects.get(pk=book["a1"].pk)
    assert customer.last_touch_at is not None
    # the header's "Last touch" comes in the same response, out of band
    assert '<div id="last-touch" hx-swap-oob="true">' in response.text


def test_an_invalid_note_keeps_what_was_typed(org, book, client_for):
    response = client_for(org.csm_a).post(
        f"/customers/{book['a1'].pk}/activities/", {"kind": "call", "title": "", "body": "Texto que não pode sumir"}
    )
    assert response.status_code == 422
    assert "Texto que não pode sumir" in response.text
    assert "obrigatório" in response.text


def test_a_vague_churn_reason_is_refused_on_the_page_and_kept(org, book, client_for):
    customer = book["a2"]
    hand_off(customer, org.csm_a)
    reason = ChurnReason.objects.get(code="budget-cut")
    response = client_for(org.csm_a).post(
        f"/customers/{customer.pk}/churn/",
        {"kind": "voluntary", "reason": reason.pk, "detail": "não viu valor", "requested_on": timezone.localdate()},
    )
    assert response.status_code == 422
    assert "vago" in response.text
    assert "não viu valor" in response.text
    assert not customer.churn_requests.exists()


def test_ongoing_without_handoff_is_refused_with_the_reason(org, book, client_for):
    client = client_for(org.csm_a)
    response = client.post(f"/customers/{book['a1'].pk}/ongoing/", follow=True)
    assert "passagem de bastão" in response.text
    assert Customer.objects.get(pk=book["a1"].pk).stage == Stage.ONBOARDING


def test_handoff_form_moves_the_customer_to_ongoing(org, book, client_for):
    customer = book["a1"]
    response = client_for(org.ism_a).post(
        f"/customers/{customer.pk}/handoff/",
        {
            "to_user": org.csm_a.pk,
            "channel": "meeting",
            "held_on": timezone.localdate(),
            "results": "50 leads no funil",
            "goals": "Dobrar conversão",
            "risks": "",
            "stakeholders": "Ana (decisora)",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.stage == Stage.ONGOING
    assert customer.reviews.filter(status="scheduled").exists()


def test_leader_reassigns_in_bulk(org, book, client_for):
    response = client_for(org.leader_a).post(
        "/portfolio/reassign/", {"to_owner": org.csm_a2.pk, "customers": [book["a1"].pk, book["a2"].pk]}
    )
    assert response.status_code == 302
    assert set(Customer.objects.filter(owner=org.csm_a2).values_list("name", flat=True)) == {
        "Padaria Pão Dourado",
        "Clínica Bem Viver",
        "Transportadora Rio Sul",
    }


def test_a_leader_cannot_reassign_another_teams_customer(org, book, client_for):
    client_for(org.leader_a).post("/portfolio/reassign/", {"to_owner": org.csm_a2.pk, "customers": [book["b1"].pk]})
    assert Customer.objects.get(pk=book["b1"].pk).owner == org.csm_b


def test_csm_cannot_reassign(org, book, client_for):
    response = client_for(org.csm_a).post(
        "/portfolio/reassign/", {"to_owner": org.csm_a2.pk, "customers": [book["a1"].pk]}
    )
    assert response.status_code == 403


def test_portfolio_filters_search_and_sort(org, book, client_for):
    subscribe(book["a1"], amount_cents=100_000)
    subscribe(book["a2"], amount_cents=900_000)
    client = client_for(org.leader_a)
    assert listed(client.get("/portfolio/?q=padaria")) == {"Padaria Pão Dourado"}
    assert listed(client.get(f"/portfolio/?owner={org.csm_a2.pk}")) == {"Transportadora Rio Sul"}
    text = client.get("/portfolio/?sort=-mrr").text
    assert text.index("Clínica Bem Viver") < text.index("Padaria Pão Dourado")
    partial = client.get("/portfolio/?q=clinica", HTTP_HX_REQUEST="true")
    assert "<html" not in partial.text
    assert partial["Vary"].count("HX-Request") == 1


def test_my_day_shows_what_needs_the_csm(org, book, client_for):
    customer = book["a2"]
    hand_off(customer, org.csm_a)
    services.task_create(
        customer=customer, owner=org.csm_a, title="Ligar para a Ana", due_date=timezone.localdate() - timedelta(days=2)
    )
    services.churn_request_open(
        customer=customer,
        kind="voluntary",
        reason=ChurnReason.objects.get(code="champion-left"),
        detail="A Ana, champion do projeto, saiu da empresa e o novo gestor quer reavaliar",
        actor=org.csm_a,
    )
    page = client_for(org.csm_a).get("/")
    assert "Ligar para a Ana" in page.text
    assert "atrasada há 2 dias" in page.text
    assert "O champion saiu da empresa" in page.text


def test_my_day_lists_the_most_overdue_tasks_and_counts_every_one_due(org, book, client_for, monkeypatch):
    # given four tasks of Lucas's: due 3 days ago, yesterday, today, and in 2 days; and a page that shows two rows
    monkeypatch.setattr(day_selectors, "TASKS_SHOWN", 2)
    today = timezone.localdate()
    for title, days in (("Revisar contrato", 0), ("Ligar para a Ana", -3), ("Visita", 2), ("Enviar proposta", -1)):
        services.task_create(customer=book["a2"], owner=org.csm_a, title=title, due_date=today + timedelta(days=days))

    # when he opens My day
    page = client_for(org.csm_a).get("/").text

    # then the two most overdue are listed, and the three due (not the one of the day after tomorrow) are counted
    listed = page[page.index('id="tasks-h"') : page.index('id="churn-h"')]
    assert "Ligar para a Ana" in listed
    assert "atrasada há 3 dias" in listed
    assert "Enviar proposta" in listed
    assert "atrasada há 1 dia" in listed
    assert "Revisar contrato" not in listed
    assert "Visita" not in listed
    assert "As primeiras 2 de 3 tarefas, as mais atrasadas primeiro." in listed
    day = day_selectors.my_day(org.csm_a)
    assert [t.title for t in day["tasks"]] == ["Ligar para a Ana", "Enviar proposta"]
    assert day["task_count"] == 3


def shows_each(response, names) -> bool:
    """The page answered and lists every one of ``names``."""
    return response.status_code == 200 and all(name in response.text for name in names)


def test_portfolio_query_count_is_constant(org, client_for, django_assert_max_num_queries):
    client = client_for(org.leader_a)
    few = [c.name for c in CustomerFactory.create_batch(3, owner=org.csm_a)]
    with django_assert_max_num_queries(22) as small:  # the leader's door: her teams' people, and does it hold everyone
        page = client.get("/portfolio/")
        partial = client.get("/portfolio/?q=Cliente", HTTP_HX_REQUEST="true")
    assert shows_each(page, few)
    assert shows_each(partial, few)
    assert "<html" not in partial.text

    CustomerFactory.create_batch(30, owner=org.csm_a2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get("/portfolio/")
        partial = client.get("/portfolio/?q=Cliente", HTTP_HX_REQUEST="true")

    for response in (page, partial):
        shown = [customer.name for customer in response.context["page"]]
        assert len(shown) == PAGE_SIZES[0]
        assert response.context["page"].paginator.count == 33
        assert shows_each(response, shown)


def test_customer_page_query_count_is_constant(org, client_for, django_assert_max_num_queries):
    customer = CustomerFactory(owner=org.csm_a, name="Padaria Pão Dourado")
    subscribe(customer)
    client = client_for(org.csm_a)
    with django_assert_max_num_queries(40) as small:
        page = client.get(f"/customers/{customer.pk}/")
    assert shows_each(page, ["Padaria Pão Dourado", "Leme CRM"])

    for n in range(20):
        services.activity_log(customer=customer, kind="note", title=f"Nota {n:02}", author=org.csm_a)
        ContactFactory(customer=customer, name=f"Contato {n:02}")
        services.task_create(customer=customer, owner=org.csm_a, title=f"Tarefa {n:02}", due_date=timezone.localdate())
    subscribe(customer, product="Módulo extra")
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(f"/customers/{customer.pk}/")

    rows = [f"{kind} {n:02}" for kind in ("Nota", "Contato", "Tarefa") for n in range(20)]
    assert shows_each(page, ["Padaria Pão Dourado", "Leme CRM", "Módulo extra", *rows])


def saved_into_uti(customer, csm) -> None:
    """Handed off to ``csm``, asked to leave, and saved: the customer enters UTI."""
    hand_off(customer, csm)
    request = services.churn_request_open(
        customer=customer,
        kind="voluntary",
        reason=ChurnReason.objects.get(code="budget-cut"),
        detail="Fusão com outra rede cortou o orçamento de ferramentas em 40%",
        actor=csm,
    )
    services.churn_request_resolve(churn_request=request, outcome="recovered", actor=csm)


def test_uti_board_lists_customers_with_days_left(org, book, client_for):
    saved_into_uti(book["a2"], org.csm_a)
    page = client_for(org.leader_a).get("/uti/")
    assert "Clínica Bem Viver" in page.text
    assert "30" in page.text


def test_onboarding_board_shows_time_to_first_value_per_ism(org, client_for):
    # given two customers of the ISM: one reached first value in 4 days (on time), one in 20 (late)
    today = timezone.localdate()
    quick = CustomerFactory(implementation_manager=org.ism_a, start_date=today - timedelta(days=30))
    slow = CustomerFactory(implementation_manager=org.ism_a, start_date=today - timedelta(days=30))
    services.milestone_achieve(
        milestone=quick.milestones.get(kind="first_value"), achieved_on=today - timedelta(days=26), actor=org.ism_a
    )
    services.milestone_achieve(
        milestone=slow.milestones.get(kind="first_value"), achieved_on=today - timedelta(days=10), actor=org.ism_a
    )
    # when the leader opens the board
    from portfolio.selectors import onboarding_board

    stats = onboarding_board(org.leader_a)["stats"]
    # then the average is 12 days and half were on time
    assert stats == [{"ism": "Juliana Pereira", "reached": 2, "on_time_rate": 0.5, "avg_days": 12}]
    page = client_for(org.leader_a).get("/onboarding/")
    assert page.status_code == 200
    assert "50%" in page.text


def test_a_leaders_day_shows_the_teams_overdue_reviews(org, client_for):
    customer = CustomerFactory(name="Oficina Motor Forte", owner=org.csm_a)
    hand_off(customer, org.csm_a)
    services.review_schedule(customer=customer, due_date=timezone.localdate() - timedelta(days=5), actor=org.csm_a)
    assert "Oficina Motor Forte" in client_for(org.leader_a).get("/").text
    assert "Oficina Motor Forte" not in client_for(org.csm_a2).get("/").text


def test_winning_an_upsell_on_the_page_records_an_expansion(org, client_for):
    from portfolio.ledger import add_months, month_start

    customer = CustomerFactory(owner=org.csm_a, start_date=add_months(month_start(timezone.localdate()), -2))
    hand_off(customer, org.csm_a)
    subscription = subscribe(customer, amount_cents=100_000)
    opportunity = services.opportunity_create(
        customer=customer, actor=org.csm_a, kind="upsell", source="proactive", title="Plano Business", mrr_cents=50_000
    )
    response = client_for(org.csm_a).post(
        f"/customers/{customer.pk}/opportunities/{opportunity.pk}/close/",
        {"result": "won", "subscription": subscription.pk},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.mrr_cents == 150_000
    assert customer.mrr_movements.get(month=month_start(timezone.localdate())).kind == "expansion"


def test_uti_board_pages_the_stays_nearest_last_day_first(org, client_for, monkeypatch):
    # given three customers in UTI ending on different days, and pages of two
    monkeypatch.setattr("portfolio.views.boards.UTI_PAGE_SIZE", 2)
    names = ["Termina Depois", "Termina Primeiro", "Termina No Meio"]
    for name, days in zip(names, (20, 3, 10), strict=True):
        customer = CustomerFactory(owner=org.csm_a, name=name)
        saved_into_uti(customer, org.csm_a)
        UtiStay.objects.filter(customer=customer).update(ends_on=timezone.localdate() + timedelta(days=days))

    first = client_for(org.leader_a).get("/uti/")
    second = client_for(org.leader_a).get("/uti/?page=2")

    assert first.context["outcomes"]["in_uti"] == 3
    assert [s.customer.name for s in first.context["page"]] == ["Termina Primeiro", "Termina No Meio"]
    assert [s.customer.name for s in second.context["page"]] == ["Termina Depois"]
    assert "Página 1 de 2" in first.text


def test_the_timeline_partial_and_a_form_post_load_only_what_they_use(
    org, book, client_for, django_assert_max_num_queries
):
    customer = book["a1"]
    services.activity_log(customer=customer, kind="call", title="Ligação de alinhamento", author=org.csm_a)
    services.activity_log(customer=customer, kind="note", title="Nota interna", author=org.csm_a)
    client = client_for(org.csm_a)

    # the htmx timeline filter: session, user, the customer, its timeline (no page-wide prefetches)
    with django_assert_max_num_queries(5):
        partial = client.get(f"/customers/{customer.pk}/?partial=timeline&kind=call", HTTP_HX_REQUEST="true")
    # a contact added: session, user, the customer, the writes, no page load before the redirect
    with django_assert_max_num_queries(12):
        added = client.post(
            f"/customers/{customer.pk}/contacts/",
            {"name": "Ana Prado", "email": "ana@padaria.com.br", "role": "champion", "language": "pt-br"},
        )

    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "Ligação de alinhamento" in partial.text
    assert "Nota interna" not in partial.text
    assert added.status_code == 302
    assert customer.contacts.filter(email="ana@padaria.com.br").exists()


def test_a_kind_of_entry_registered_by_surveys_is_named_and_filtered_on_the_timeline(org, book, client_for):
    # given: an entry of the kind surveys registers (portfolio does not know it), next to a call
    customer = book["a1"]
    services.activity_log(customer=customer, kind="survey", title="NPS 3 — detrator · Ana", author=None)
    services.activity_log(customer=customer, kind="call", title="Ligação de acompanhamento", author=org.csm_a)

    # when
    page = client_for(org.csm_a).get(f"/customers/{customer.pk}/")
    filtered = client_for(org.csm_a).get(
        f"/customers/{customer.pk}/?partial=timeline&kind=survey", HTTP_HX_REQUEST="true"
    )

    # then
    assert page.status_code == filtered.status_code == 200
    assert '<option value="survey">Resposta de pesquisa</option>' in page.text
    assert "Resposta de pesquisa" in page.text
    assert "NPS 3 — detrator · Ana" in filtered.text
    assert "Ligação de acompanhamento" not in filtered.text


# --- Closing an opportunity: a form --------------------------------------------------------------------------


@pytest.fixture
def upsell(org):
    customer = CustomerFactory(owner=org.csm_a)
    hand_off(customer, org.csm_a)
    subscribe(customer, amount_cents=100_000)
    return services.opportunity_create(
        customer=customer, actor=org.csm_a, kind="upsell", source="proactive", title="Plano Business", mrr_cents=50_000
    )


@pytest.mark.parametrize(
    "data",
    [{"result": "won", "subscription": "abc"}, {}, {"result": "perdido"}, {"result": "won"}],
    ids=["not a subscription", "empty", "no such result", "upsell without its subscription"],
)
def test_closing_an_opportunity_with_bad_input_is_a_422_that_closes_nothing(org, client_for, upsell, data):
    response = client_for(org.csm_a).post(f"/customers/{upsell.customer_id}/opportunities/{upsell.pk}/close/", data)

    assert response.status_code == 422
    assert "Plano Business" in " ".join(str(m) for m in response.context["messages"])
    upsell.refresh_from_db()
    assert upsell.stage == "identified"
    assert upsell.customer.subscriptions.get().amount_cents == 100_000


def test_another_teams_subscription_cannot_grow_from_an_opportunity(org, client_for, upsell):
    theirs = subscribe(CustomerFactory(owner=org.csm_b), amount_cents=10_000)

    url = f"/customers/{upsell.customer_id}/opportunities/{upsell.pk}/close/"

    response = client_for(org.csm_a).post(url, {"result": "won", "subscription": theirs.pk})

    assert response.status_code == 422
    theirs.refresh_from_db()
    assert theirs.amount_cents == 10_000


def test_losing_an_opportunity_takes_the_lost_result(org, client_for, upsell):
    response = client_for(org.csm_a).post(
        f"/customers/{upsell.customer_id}/opportunities/{upsell.pk}/close/", {"result": "lost"}
    )

    assert response.status_code == 302
    upsell.refresh_from_db()
    assert upsell.stage == "lost"


def test_an_opportunity_moves_only_to_a_stage_it_has(org, upsell):
    with pytest.raises(ValidationError) as refused:
        services.opportunity_move(opportunity=upsell, stage="bogus", actor=org.csm_a)

    assert "stage" in refused.value.message_dict
    upsell.refresh_from_db()
    assert upsell.stage == "identified"
