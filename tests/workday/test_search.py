"""Search from anywhere: the door (nobody finds another team's customers, contacts or people), accents and case
ignored on PostgreSQL, the suggestions as you type and the results page without JavaScript."""

import importlib
import unicodedata

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio import selectors
from tests.factories import UserFactory
from tests.portfolio.factories import ContactFactory, CustomerFactory

search_selectors = importlib.import_module("portfolio.selectors.search")  # the package exports a function by that name

pytestmark = pytest.mark.django_db


@pytest.fixture
def sao_paulo(org):
    """Customers named alike in both teams, each with a contact, so that only the door tells them apart."""
    ours = CustomerFactory(owner=org.csm_a, name="Padaria São Paulo Ltda", cnpj="11222333000181")
    theirs = CustomerFactory(owner=org.csm_b, name="Açougue São Paulo ME")
    colleague = CustomerFactory(owner=org.csm_a2, name="Mercearia São Paulo")
    return {
        "ours": ours,
        "theirs": theirs,
        "colleague": colleague,
        "our_contact": ContactFactory(customer=ours, name="Conceição Araújo", email="conceicao@padaria.com.br"),
        "their_contact": ContactFactory(customer=theirs, name="Conceição Ribeiro", email="conceicao@acougue.com.br"),
    }


def names(results, kind):
    group = next(g for g in results.groups if g.kind == kind)
    return sorted(getattr(row, "full_name", None) or row.name for row in group.rows)


def test_postgres_has_the_fold_function_and_the_trigram_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT leme_fold('São PAULO Ação')")
        assert cursor.fetchone()[0] == "sao paulo acao"
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s ORDER BY 1", ["%_trgm"])
        assert [row[0] for row in cursor.fetchall()] == [
            "portfolio_contact_email_lower_trgm",
            "portfolio_contact_name_fold_trgm",
            "portfolio_customer_cnpj_trgm",
            "portfolio_customer_name_fold_trgm",
        ]
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s ORDER BY 1", ["%_fold_prefix"])
        assert [row[0] for row in cursor.fetchall()] == [
            "portfolio_contact_name_fold_prefix",
            "portfolio_customer_name_fold_prefix",
        ]


def test_accents_and_case_are_ignored_both_ways(org, sao_paulo):
    assert names(selectors.search(org.csm_a, "sao paulo"), "customers") == ["Padaria São Paulo Ltda"]
    assert names(selectors.search(org.csm_a, "SÃO PÂULO"), "customers") == ["Padaria São Paulo Ltda"]
    assert names(selectors.search(org.csm_a, "conceicao ara"), "contacts") == ["Conceição Araújo"]
    assert names(selectors.search(org.leader_a, "acougue"), "customers") == []  # team B's, even for a leader


def test_a_csm_finds_only_their_customers_and_their_contacts(org, sao_paulo):
    results = selectors.search(org.csm_a, "paulo")

    assert names(results, "customers") == ["Padaria São Paulo Ltda"]
    assert names(selectors.search(org.csm_a, "conceição"), "contacts") == ["Conceição Araújo"]
    assert names(selectors.search(org.csm_a, "acougue.com"), "contacts") == []


def test_a_leader_finds_the_teams_customers_and_an_admin_everyones(org, sao_paulo):
    assert names(selectors.search(org.leader_a, "são paulo"), "customers") == [
        "Mercearia São Paulo",
        "Padaria São Paulo Ltda",
    ]
    assert names(selectors.search(org.leader_a, "conceicao"), "contacts") == ["Conceição Araújo"]
    assert len(names(selectors.search(org.admin, "sao paulo"), "customers")) == 3
    assert names(selectors.search(org.viewer_a, "sao paulo"), "customers") == [
        "Mercearia São Paulo",
        "Padaria São Paulo Ltda",
    ]


def test_people_are_found_by_the_team_pages_rules(org):
    UserFactory(team=org.team_b, full_name="Lúcia Andrade")

    assert names(selectors.search(org.leader_a, "lu"), "people") == ["Lucas Almeida"]
    assert names(selectors.search(org.admin, "lucia"), "people") == ["Lúcia Andrade"]
    assert names(selectors.search(org.leader_b, "lucia"), "people") == ["Lúcia Andrade"]
    # a CSM sees themselves on the Team pages, and nobody else
    assert selectors.search(org.csm_a, "a").too_short
    assert names(selectors.search(org.csm_a, "al"), "people") == ["Lucas Almeida"]
    assert names(selectors.search(org.csm_a, "beatriz"), "people") == []


def test_cnpj_typed_bare_or_formatted_and_the_external_id(org, sao_paulo):
    CustomerFactory(owner=org.csm_a, name="Outro Cliente", external_id="crm-4417")

    assert names(selectors.search(org.csm_a, "11.222.333"), "customers") == ["Padaria São Paulo Ltda"]
    assert names(selectors.search(org.csm_a, "3330001"), "customers") == ["Padaria São Paulo Ltda"]
    assert names(selectors.search(org.csm_a, "crm-4417"), "customers") == ["Outro Cliente"]


def test_two_characters_find_names_that_start_with_them(org):
    CustomerFactory(owner=org.csm_a, name="Ótica Visão")
    CustomerFactory(owner=org.csm_a, name="Farmácia Ótima")

    assert names(selectors.search(org.csm_a, "ot"), "customers") == ["Ótica Visão"]


def test_names_that_start_with_the_term_come_first(org):
    CustomerFactory(owner=org.csm_a, name="Academia Boa Forma")
    CustomerFactory(owner=org.csm_a, name="Forma Pilates")

    rows = next(g for g in selectors.search(org.csm_a, "forma").groups if g.kind == "customers").rows

    assert [c.name for c in rows] == ["Forma Pilates", "Academia Boa Forma"]


def test_the_suggestions_are_an_aria_listbox_with_a_see_all_option(org, sao_paulo, client_for):
    response = client_for(org.csm_a).get("/search/", {"q": "sao paulo"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "<html" not in response.text
    assert f'role="option" id="search-option-customers-{sao_paulo["ours"].pk}"' in response.text
    assert "Açougue" not in response.text
    assert 'id="search-option-all"' in response.text
    assert 'href="/search/?q=sao%20paulo"' in response.text
    assert "1 resultado, use as setas" in response.text
    assert "HX-Request" in response["Vary"]


def test_the_results_page_works_as_a_plain_get_and_pages_one_kind(org, client_for):
    for n in range(30):
        CustomerFactory(owner=org.csm_a, name=f"Padaria {n:02d}")
    client = client_for(org.csm_a)

    everything = client.get("/search/", {"q": "padaria"})
    one_kind = client.get("/search/", {"q": "padaria", "kind": "customers", "page": 2})

    assert everything.status_code == 200
    assert everything.text.count('class="search-row"') == 10
    assert "Ver todas as correspondências" in everything.text
    assert one_kind.text.count('class="search-row"') == 5
    assert "30 encontrados" in one_kind.text
    assert "Página 2 de 2" in one_kind.text


def test_too_short_and_nothing_found_say_so(org, client_for):
    client = client_for(org.csm_a)

    assert "Digite ao menos duas letras" in client.get("/search/", {"q": "a"}).text
    assert "Nada encontrado para “zzzz”" in client.get("/search/", {"q": "zzzz"}).text
    assert 'role="option"' not in client.get("/search/", {"q": "a"}, HTTP_HX_REQUEST="true").text


def test_the_box_is_in_every_pages_top_bar_without_inline_script(org, client_for):
    page = client_for(org.csm_a).get("/").text

    assert 'id="topsearch-q"' in page
    assert 'role="combobox"' in page
    assert 'hx-trigger="input changed delay:250ms, search"' in page
    assert "<script>" not in page
    assert " style=" not in page


def test_suggestions_read_in_a_fixed_number_of_queries(org, client_for, django_assert_max_num_queries):
    for n in range(12):
        customer = CustomerFactory(owner=org.csm_a, name=f"Loja Paulista {n}")
        ContactFactory(customer=customer, name=f"Paula {n}")
    client = client_for(org.csm_a)
    client.get("/search/", {"q": "paul"}, HTTP_HX_REQUEST="true")  # the session and the user, once

    # session, user, then customers, contacts and people: one query each
    with django_assert_max_num_queries(5):
        client.get("/search/", {"q": "paul"}, HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(5):
        client.get("/search/", {"q": "paul"})


def test_on_sqlite_the_search_folds_case_with_lower_instead():
    # the embedded run (bin/run) has no leme_fold: the same filter compiles to LOWER(...) LIKE there
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from core.search import folded_contains
    from portfolio.models import Customer

    sqlite = DatabaseWrapper({"NAME": ":memory:", "TIME_ZONE": None, "OPTIONS": {}}, alias="sqlite-check")
    query = Customer.objects.filter(folded_contains("name", "São")).query
    sql, params = query.get_compiler(connection=sqlite).as_sql()

    assert 'LOWER("portfolio_customer"."name") LIKE' in sql
    assert "leme_fold" not in sql
    assert "São" in params


def test_a_contact_row_shows_its_customer_and_a_renamed_customer_is_found_by_its_new_name(org, sao_paulo, client_for):
    # the folded name is a column the database keeps: a rename (even a bulk update) is searchable at once
    from portfolio.models import Customer

    Customer.objects.filter(pk=sao_paulo["ours"].pk).update(name="Panificadora Conceição")
    client = client_for(org.csm_a)

    response = client.get("/search/", {"q": "conceicao"}, HTTP_HX_REQUEST="true")

    assert f'id="search-option-customers-{sao_paulo["ours"].pk}"' in response.text
    contact = sao_paulo["our_contact"]
    assert f'id="search-option-contacts-{contact.pk}"' in response.text
    assert "conceicao@padaria.com.br · Panificadora Conceição" in response.text
    assert "Conceição Ribeiro" not in response.text  # team B's contact
    assert Customer.objects.get(pk=sao_paulo["ours"].pk).name_folded == (
        "panificadora conceicao" if connection.vendor == "postgresql" else "panificadora conceição"
    )


@pytest.fixture
def many_contacts(org):
    """Contacts whose names start with a term, contain it further on, or hold it in their email only, spread
    through the name order, of customers of both teams."""
    ours = CustomerFactory(owner=org.csm_a, name="Clínica Horizonte")
    theirs = CustomerFactory(owner=org.csm_b, name="Farmácia Litoral")
    people = [
        *(f"Maria {surname}" for surname in ("Souza", "Alves", "Lima", "Rocha", "Dias", "Costa", "Melo")),
        *(f"{first} Maria {surname}" for first in ("Ana", "Bruna", "Zélia") for surname in ("Silva", "Pires")),
        *(f"{first} Saúde" for first in ("Álvaro", "Caio", "Yara")),
        *(f"{first} Prado" for first in ("Beto", "Davi", "Edu", "Fabi", "Gil", "Hugo", "Íris")),
        "Mariana Duarte",
        "Marília Saúde",
    ]
    for n, name in enumerate(people):
        email = f"contato{n}@saude-{n}.com.br" if n % 4 == 0 else f"p{n}@exemplo.com.br"
        ContactFactory(customer=ours if n % 2 else theirs, name=name, email=email)


@pytest.mark.parametrize("walk", [1, 4, 12, 1000])
def test_the_first_contacts_of_someone_who_sees_everyone_are_those_of_the_whole_query(
    org, many_contacts, monkeypatch, walk
):
    monkeypatch.setattr(search_selectors, "WALK", walk)
    for term in ("maria", "mari", "saude", "prado", "silva", "zzz", "ria", "exemplo", "saude-1", "p1@exemplo", ".com"):
        for count in (1, 3, 6, 30):
            expected = [c.pk for c in search_selectors.contacts_matching(org.admin, term)[:count]]
            found = [c.pk for c in search_selectors.first_contacts(org.admin, term, count)]
            assert found == expected, (term, count, walk)
    assert [c.pk for c in search_selectors.first_contacts(org.csm_a, "maria", 30)] == [
        c.pk for c in search_selectors.contacts_matching(org.csm_a, "maria")[:30]
    ]


def test_contacts_whose_name_starts_with_the_term_come_first_then_by_name(org, many_contacts):
    def folded(name):
        return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()

    starts = next(g for g in selectors.search(org.admin, "mari", per_group=30).groups if g.kind == "contacts").rows
    assert [c.name for c in starts] == [
        "Maria Alves", "Maria Costa", "Maria Dias", "Maria Lima", "Maria Melo", "Maria Rocha", "Maria Souza",
        "Mariana Duarte", "Marília Saúde",
        "Ana Maria Pires", "Ana Maria Silva", "Bruna Maria Pires", "Bruna Maria Silva", "Zélia Maria Pires",
        "Zélia Maria Silva",
    ]  # fmt: skip
    # none starts with "saude": the names that hold it and the emails that do, by name folded ("Álvaro" as "alvaro")
    rows = next(g for g in selectors.search(org.admin, "saude", per_group=30).groups if g.kind == "contacts").rows
    assert [c.name for c in rows] == sorted((c.name for c in rows), key=folded)
    assert {"Álvaro Saúde", "Caio Saúde", "Marília Saúde", "Yara Saúde"} <= {c.name for c in rows}
    assert rows[0].name == "Álvaro Saúde"


def test_a_common_first_name_is_read_from_the_start_of_the_name_order_for_someone_who_sees_everyone(
    org, many_contacts, monkeypatch
):
    with CaptureQueriesContext(connection) as enough_start_with_it:
        rows = search_selectors.first_contacts(org.admin, "maria", 6)
    assert [c.name for c in rows][:1] == ["Maria Alves"]
    assert len(enough_start_with_it) == 1  # the names that start with it, in order: six of them suffice
    assert 'LOWER("portfolio_contact"."email")' not in enough_start_with_it[0]["sql"]  # not the match of every row

    monkeypatch.setattr(search_selectors, "WALK", 12)
    with CaptureQueriesContext(connection) as among_the_first:
        rows = search_selectors.first_contacts(org.admin, "prado", 3)
    # none starts with it; the walk's end; the matches before it, enough: every match is never read
    assert len(among_the_first) == 3
    assert [c.name for c in rows] == ["Beto Prado", "Davi Prado", "Edu Prado"]


def test_part_of_an_email_skips_the_walk_through_the_names(org, many_contacts, monkeypatch):
    monkeypatch.setattr(search_selectors, "WALK", 12)
    with CaptureQueriesContext(connection) as queries:
        rows = search_selectors.first_contacts(org.admin, "p1@exemplo", 3)
    # none starts with it, then the whole query: no walk's end, no match among the first names
    assert len(queries) == 2
    assert [c.email for c in rows] == ["p1@exemplo.com.br", *[c.email for c in rows[1:]]]
    assert all("p1" in c.email for c in rows)
