"""What every page shares: whole pages for htmx's history restore, the branded error pages, the favicon,
and the My day counters."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone
from django.views.defaults import server_error

from portfolio import services
from tests.portfolio.factories import CustomerFactory, hand_off

pytestmark = pytest.mark.django_db

HISTORY_RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}
TEMPLATES = Path(settings.BASE_DIR) / "templates"
STATIC = Path(settings.BASE_DIR) / "static"


# --- htmx's history restore gets the whole page ----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fragment_marker"),
    [("/portfolio/?service_model=high&sort=-mrr", 'id="results"'), ("/surveys/?kind=nps", 'id="campaigns"')],
)
def test_a_history_restore_gets_the_whole_page_and_a_filter_its_fragment(org, client_for, url, fragment_marker):
    client = client_for(org.leader_a)

    restored = client.get(url, **HISTORY_RESTORE)
    fragment = client.get(url, HTTP_HX_REQUEST="true")

    assert restored.status_code == 200
    assert restored.text.count("<html") == 1
    assert 'aria-label="Principal"' in restored.text  # the navigation
    assert fragment_marker in restored.text
    assert "<html" not in fragment.text
    assert fragment_marker in fragment.text
    assert "HX-History-Restore-Request" in restored["Vary"]


def test_a_history_restore_of_a_filtered_timeline_gets_the_customer_page(org, client_for):
    customer = CustomerFactory(owner=org.csm_a)

    restored = client_for(org.csm_a).get(f"/customers/{customer.pk}/?partial=timeline&kind=note", **HISTORY_RESTORE)

    assert restored.text.count("<html") == 1
    assert 'id="timeline-card"' in restored.text


# --- Error pages ----------------------------------------------------------------------------------------


def assert_in_the_shell(response, code: int):
    assert response.status_code == code
    assert "<html" in response.text
    assert 'class="brand"' in response.text
    assert f'<p class="error-code">{code}</p>' in response.text
    assert 'rel="icon"' in response.text


def test_an_unknown_address_is_a_branded_404_for_a_person_logged_in(org, client_for):
    response = client_for(org.csm_a).get("/nada-aqui/")

    assert_in_the_shell(response, 404)
    assert "Não encontramos esta página" in response.text
    assert 'aria-label="Principal"' in response.text
    assert "Lucas Almeida" in response.text


def test_an_unknown_address_is_a_branded_404_for_nobody_logged_in(client):
    response = client.get("/nada-aqui/")

    assert_in_the_shell(response, 404)
    assert 'aria-label="Principal"' not in response.text
    assert "Sair" not in response.text


def test_a_page_a_role_may_not_open_is_a_branded_403_saying_why(org, client_for):
    response = client_for(org.csm_a).get("/portfolio/import/")

    assert_in_the_shell(response, 403)
    assert "Seu papel não abre esta página" in response.text


def test_the_500_page_renders_without_a_person_or_the_database(django_db_blocker):
    request = RequestFactory().get("/")

    with django_db_blocker.block():
        response = server_error(request)

    assert_in_the_shell(response, 500)
    assert "Algo deu errado do nosso lado" in response.content.decode()


def test_an_error_inside_a_view_answers_the_branded_500(org, client_for, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("portfolio.selectors.day.tasks_visible_to", broken)
    client = client_for(org.csm_a)
    client.raise_request_exception = False

    assert_in_the_shell(client.get("/"), 500)


# --- The favicon ----------------------------------------------------------------------------------------


def shapes(svg: str) -> list[str]:
    """The brand's drawing: its circles and paths, whatever the colours around them."""
    return re.findall(r"<(?:circle|path) [^>]*>", svg)


def test_the_favicon_is_the_brand_and_is_served(client):
    brand = (TEMPLATES / "_brand.svg.html").read_text()
    favicon = (STATIC / "favicon.svg").read_text()
    assert shapes(favicon) == shapes(brand)

    served = client.get(f"{settings.STATIC_URL}favicon.svg")
    assert served.status_code == 200
    assert served["Content-Type"].startswith("image/svg+xml")


def test_the_login_page_links_the_favicon(client):
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in client.get("/login/").text


# --- My day ---------------------------------------------------------------------------------------------


def test_my_day_counts_every_task_due_though_it_lists_the_first_50(org, client_for):
    # given 53 tasks due for the CSM
    customer = CustomerFactory(implementation_manager=org.ism_a)
    hand_off(customer, org.csm_a, actor=org.ism_a)
    today = timezone.localdate()
    for n in range(53):
        services.task_create(customer=customer, owner=org.csm_a, title=f"Tarefa {n}", due_date=today - timedelta(n))

    # when the CSM opens My day
    page = client_for(org.csm_a).get("/")

    # then the counter says 53, the list holds 50, and says it
    counter = re.search(r'Tarefas pendentes</div><div class="value">(\d+)</div>', page.text)
    assert counter
    assert counter.group(1) == "53"
    assert page.text.count('class="list-row"') == 50
    assert "As primeiras 50 de 53 tarefas" in page.text
