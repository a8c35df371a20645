"""The customer page's forms that it asks for once their panel is opened — a new task, contact or opportunity,
a contact's changes, the churn request, its save attempts and outcome — rather than rendering them for every
panel: each answers alone for htmx and as a page of its own without JavaScript, to those who may change the
customer only, and re-renders with its errors (422)."""

import pytest
from django.utils import timezone

from portfolio import services
from portfolio.models import ChurnReason
from tests.portfolio.factories import ContactFactory, CustomerFactory, hand_off, subscribe

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def customer(org):
    customer = CustomerFactory(name="Padaria Pão Dourado", owner=org.csm_a, implementation_manager=org.ism_a)
    hand_off(customer, org.csm_a)
    return customer


@pytest.fixture
def ana(customer):
    return ContactFactory(customer=customer, name="Ana Prado", email="ana@padaria.com.br", role="user")


def test_the_page_links_the_forms_it_no_longer_renders(org, customer, ana, client_for):
    page = client_for(org.csm_a).get(f"/customers/{customer.pk}/")

    assert page.status_code == 200
    edit_url = f"/customers/{customer.pk}/contacts/{ana.pk}/"
    churn_url = f"/customers/{customer.pk}/churn/"
    # each panel asks for its form when opened, and links to it without JavaScript
    for url in (edit_url, churn_url):
        assert f'hx-get="{url}" hx-trigger="toggle once"' in page.text
        assert f'<a href="{url}">Abrir o formulário</a>' in page.text
    # the forms themselves are not on the page: no contact's input, no churn reason to choose
    assert 'value="Ana Prado"' not in page.text
    assert 'id="id_churn_reason"' not in page.text
    assert f'action="{edit_url}"' not in page.text


def test_a_contacts_form_answers_alone_for_htmx_and_as_a_page_without(org, customer, ana, client_for):
    client = client_for(org.csm_a)
    url = f"/customers/{customer.pk}/contacts/{ana.pk}/"

    fragment = client.get(url, **HTMX)
    page = client.get(url)

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.strip().startswith(f'<form class="form" method="post" action="{url}" hx-post="{url}"')
    assert f'id="id_contact-{ana.pk}-name"' in fragment.text
    assert 'value="Ana Prado"' in fragment.text
    assert "Salvar contato" in fragment.text
    assert page.status_code == 200
    assert "<html" in page.text
    assert "<h1>Editar Ana Prado</h1>" in page.text
    assert 'value="Ana Prado"' in page.text
    assert fragment["Vary"] == page["Vary"]
    assert "HX-Request" in page["Vary"]


def test_a_contacts_form_refused_by_htmx_answers_422_with_its_errors_in_portuguese(org, customer, ana, client_for):
    p = f"contact-{ana.pk}-"

    response = client_for(org.csm_a).post(
        f"/customers/{customer.pk}/contacts/{ana.pk}/",
        {p + "name": "", p + "email": "ana@", p + "role": "user", p + "language": "pt-br"},
        **HTMX,
    )

    assert response.status_code == 422
    assert "<html" not in response.text
    assert "Este campo é obrigatório." in response.text
    assert "Insira um endereço de email válido." in response.text
    assert 'value="ana@"' in response.text
    assert f'id="id_contact-{ana.pk}-email_error"' in response.text
    ana.refresh_from_db()
    assert (ana.name, ana.email) == ("Ana Prado", "ana@padaria.com.br")


def test_a_contacts_form_saved_by_htmx_sends_the_person_back_to_the_page(org, customer, ana, client_for):
    client = client_for(org.csm_a)
    p = f"contact-{ana.pk}-"

    response = client.post(
        f"/customers/{customer.pk}/contacts/{ana.pk}/",
        {p + "name": "Ana Prado Lima", p + "email": "ana@padaria.com.br", p + "role": "champion", p + "language": "en"},
        **HTMX,
    )

    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/customers/{customer.pk}/"
    ana.refresh_from_db()
    assert (ana.name, ana.role, ana.language) == ("Ana Prado Lima", "champion", "en")
    assert "Contato salvo." in client.get(f"/customers/{customer.pk}/").text


def test_a_contacts_form_refused_without_htmx_reopens_on_the_page_with_its_errors(org, customer, ana, client_for):
    other = ContactFactory(customer=customer, name="Bruno Lima")
    p = f"contact-{ana.pk}-"

    page = client_for(org.csm_a).post(
        f"/customers/{customer.pk}/contacts/{ana.pk}/",
        {p + "name": "Ana", p + "email": "ana@", p + "role": "user", p + "language": "pt-br"},
    )

    assert page.status_code == 422
    assert "<html" in page.text
    assert "Insira um endereço de email válido." in page.text
    assert 'value="ana@"' in page.text
    # the refused form is open in its panel; the other contact's is still asked for when opened
    assert '<details class="panel" open><summary>Editar Ana Prado</summary>' in page.text
    assert f'hx-get="/customers/{customer.pk}/contacts/{other.pk}/"' in page.text


def test_the_churn_form_answers_alone_and_refuses_with_its_errors(org, customer, client_for):
    client = client_for(org.csm_a)
    url = f"/customers/{customer.pk}/churn/"
    reason = ChurnReason.objects.get(code="budget-cut")

    fragment = client.get(url, **HTMX)
    page = client.get(url)
    vague = client.post(
        url,
        {"kind": "voluntary", "reason": reason.pk, "detail": "não viu valor", "requested_on": timezone.localdate()},
        **HTMX,
    )

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    # the ids the page gives the form, whichever way it came
    assert 'id="id_churn_reason"' in fragment.text
    assert f'<option value="{reason.pk}">' in fragment.text
    assert "Registrar o pedido de churn" in fragment.text
    assert page.status_code == 200
    assert "<h1>Registrar um pedido de churn</h1>" in page.text
    assert vague.status_code == 422
    assert "<html" not in vague.text
    assert "vago" in vague.text
    assert "não viu valor" in vague.text
    assert not customer.churn_requests.exists()


def test_the_churn_form_recorded_by_htmx_sends_the_person_back_to_the_page(org, customer, client_for):
    client = client_for(org.csm_a)
    reason = ChurnReason.objects.get(code="budget-cut")

    response = client.post(
        f"/customers/{customer.pk}/churn/",
        {
            "kind": "voluntary",
            "reason": reason.pk,
            "detail": "A fusão com a rede Trigo cortou 40% do orçamento de ferramentas",
            "requested_on": timezone.localdate(),
        },
        **HTMX,
    )

    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/customers/{customer.pk}/"
    assert customer.churn_requests.get().reason == reason
    assert "Pedido de churn registrado" in client.get(f"/customers/{customer.pk}/").text


def test_only_those_who_may_change_the_customer_get_its_forms(org, customer, ana, client_for):
    theirs = ContactFactory(customer=CustomerFactory(owner=org.csm_b))
    archived = ContactFactory(customer=customer, name="Bruno Saiu", archived_at=timezone.now())
    urls = (f"/customers/{customer.pk}/contacts/{ana.pk}/", f"/customers/{customer.pk}/churn/")

    for url in urls:
        # a viewer reads the customer but changes nothing
        assert client_for(org.viewer_a).get(url, **HTMX).status_code == 403
        # another team's CSM does not see the customer
        assert client_for(org.csm_b).get(url, **HTMX).status_code == 404
    client = client_for(org.csm_a)
    # another team's contact, smuggled under our customer, and an archived one
    assert client.get(f"/customers/{customer.pk}/contacts/{theirs.pk}/", **HTMX).status_code == 404
    assert client.get(f"/customers/{customer.pk}/contacts/{archived.pk}/", **HTMX).status_code == 404
    # and the viewer's page offers neither form
    page = client_for(org.viewer_a).get(f"/customers/{customer.pk}/")
    assert page.status_code == 200
    for url in urls:
        assert url not in page.text


@pytest.fixture
def open_churn(org, customer):
    subscribe(customer, amount_cents=250_000)
    return services.churn_request_open(
        customer=customer,
        kind="voluntary",
        reason=ChurnReason.objects.get(code="budget-cut"),
        detail="A fusão com a rede Trigo cortou 40% do orçamento de ferramentas",
        actor=org.csm_a,
    )


def panel_forms(customer, churn) -> dict[str, tuple[str, str]]:
    """Each panel form's address, with its page's title in Portuguese."""
    base = f"/customers/{customer.pk}"
    return {
        "task": (f"{base}/tasks/", "Nova tarefa"),
        "contact": (f"{base}/contacts/", "Novo contato"),
        "opportunity": (f"{base}/opportunities/", "Nova oportunidade"),
        "save": (f"{base}/churn/{churn.pk}/save/", "Registrar uma tentativa de retenção"),
        "resolve": (f"{base}/churn/{churn.pk}/resolve/", "Encerrar o pedido"),
    }


@pytest.mark.parametrize("name", ["task", "contact", "opportunity", "save", "resolve"])
def test_each_panel_form_is_asked_for_once_opened_and_answers_both_ways(org, customer, open_churn, client_for, name):
    client = client_for(org.csm_a)
    url, title = panel_forms(customer, open_churn)[name]

    page = client.get(f"/customers/{customer.pk}/")
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    own_page = client.get(url)

    assert f'hx-get="{url}" hx-trigger="toggle once"' in page.text
    assert f'action="{url}"' not in page.text
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.strip().startswith(f'<form class="form" method="post" action="{url}" hx-post="{url}"')
    assert f'id="id_{name}_' in fragment.text  # the ids the page gives it (own_ids)
    assert own_page.status_code == 200
    assert f"<h1>{title}</h1>" in own_page.text


@pytest.mark.parametrize("name", ["task", "contact", "opportunity", "save"])
def test_each_panel_form_refused_by_htmx_answers_422_alone_and_writes_nothing(
    org, customer, open_churn, client_for, name
):
    url, _ = panel_forms(customer, open_churn)[name]
    before = (customer.tasks.count(), customer.contacts.count(), customer.opportunities.count())

    response = client_for(org.csm_a).post(url, {}, HTTP_HX_REQUEST="true")

    assert response.status_code == 422
    assert "<html" not in response.text
    assert "Este campo é obrigatório." in response.text
    assert (customer.tasks.count(), customer.contacts.count(), customer.opportunities.count()) == before
    assert not open_churn.save_attempts.exists()


def test_a_task_added_by_htmx_sends_the_person_back_to_the_page(org, customer, client_for):
    client = client_for(org.csm_a)

    form = client.get(f"/customers/{customer.pk}/tasks/", HTTP_HX_REQUEST="true")
    response = client.post(
        f"/customers/{customer.pk}/tasks/",
        {"title": "Ligar para a Ana", "due_date": timezone.localdate(), "owner": org.csm_a.pk},
        HTTP_HX_REQUEST="true",
    )

    # the owner is the customer's CSM unless chosen otherwise
    assert f'<option value="{org.csm_a.pk}" selected>' in form.text
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/customers/{customer.pk}/"
    assert customer.tasks.get().title == "Ligar para a Ana"
    assert "Tarefa criada." in client.get(f"/customers/{customer.pk}/").text


def test_a_downsell_without_its_subscription_is_refused_in_the_form_alone(org, customer, open_churn, client_for):
    response = client_for(org.csm_a).post(
        f"/customers/{customer.pk}/churn/{open_churn.pk}/resolve/",
        {"outcome": "downsell", "effective_date": timezone.localdate()},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert "<html" not in response.text
    assert "Para um downsell, escolha a assinatura e o novo valor." in response.text
    open_churn.refresh_from_db()
    assert open_churn.outcome == "open"


def test_a_panel_form_refused_without_htmx_is_open_on_the_page_with_its_errors(org, customer, client_for):
    page = client_for(org.csm_a).post(f"/customers/{customer.pk}/opportunities/", {"title": "Módulo extra"})

    assert page.status_code == 422
    assert "<html" in page.text
    assert 'value="Módulo extra"' in page.text
    assert '<details class="panel" open><summary>Nova oportunidade</summary>' in page.text
    # the other panels still ask for theirs
    assert f'hx-get="/customers/{customer.pk}/tasks/"' in page.text


@pytest.mark.parametrize("name", ["task", "contact", "opportunity", "save", "resolve"])
def test_a_panel_form_only_for_those_who_may_change_the_customer(org, customer, open_churn, client_for, name):
    url, _ = panel_forms(customer, open_churn)[name]
    elsewhere = CustomerFactory(owner=org.csm_b)
    hand_off(elsewhere, org.csm_b)

    assert client_for(org.viewer_a).get(url, HTTP_HX_REQUEST="true").status_code == 403
    assert client_for(org.csm_b).get(url, HTTP_HX_REQUEST="true").status_code == 404
    # our churn request's forms, smuggled under a customer of theirs
    if name in ("save", "resolve"):
        assert client_for(org.csm_b).get(url.replace(f"/{customer.pk}/", f"/{elsewhere.pk}/")).status_code == 404
