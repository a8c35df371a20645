"""Saved views of the portfolio list (a person's named filters, sort and rows per page), and the contacts API's
archived contacts."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from accounts.models import User
from portfolio import selectors, services
from portfolio.models import SavedView
from tests.portfolio.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


def speak_english(*users) -> None:
    User.objects.filter(pk__in=[u.pk for u in users]).update(language="en")


def views_of(user) -> list[tuple[str, str]]:
    return list(SavedView.objects.filter(person=user).order_by("name").values_list("name", "query"))


# --- The service ---------------------------------------------------------------------------------------------------


def test_saving_under_a_name_already_used_replaces_that_views_filters(org):
    first = services.saved_view_save(name="  Risco   alto ", query="health=red", actor=org.csm_a)

    again = services.saved_view_save(name="risco alto", query="health=red&sort=-mrr", actor=org.csm_a)

    assert again.pk == first.pk
    assert views_of(org.csm_a) == [("Risco alto", "health=red&sort=-mrr")]


def test_a_view_needs_a_name_and_a_rename_a_free_one(org):
    services.saved_view_save(name="Renovações", query="sort=renewal", actor=org.csm_a)
    other = services.saved_view_save(name="Onboarding", query="stage=onboarding", actor=org.csm_a)

    with translation.override("pt-br"), pytest.raises(ValidationError) as blank:
        services.saved_view_save(name="   ", query="", actor=org.csm_a)
    with translation.override("pt-br"), pytest.raises(ValidationError) as taken:
        services.saved_view_rename(view=other, name="renovações", actor=org.csm_a)

    assert blank.value.message_dict == {"name": ["Dê um nome à visão."]}
    assert taken.value.message_dict == {"name": ["Você já tem uma visão com este nome."]}


def test_a_view_is_its_persons_alone(org):
    view = services.saved_view_save(name="Minha carteira", query="", actor=org.csm_a)

    with pytest.raises(PermissionDenied):
        services.saved_view_rename(view=view, name="Do time", actor=org.leader_a)
    with pytest.raises(PermissionDenied):
        services.saved_view_delete(view=view, actor=org.admin)

    assert list(selectors.saved_views_of(org.leader_a)) == []
    assert views_of(org.csm_a) == [("Minha carteira", "")]


def test_a_viewer_keeps_views_too(org):
    services.saved_view_save(name="Vermelhos", query="health=red", actor=org.viewer_a)

    assert views_of(org.viewer_a) == [("Vermelhos", "health=red")]


# --- The page ------------------------------------------------------------------------------------------------------


def test_saving_the_lists_filters_keeps_only_what_the_list_knows(org, client_for):
    # given the list filtered, sorted and paged by 50, and a parameter the list does not know
    client = client_for(org.csm_a)
    posted = "stage=ongoing&sort=-mrr&per_page=50&page=3&utm=x&q="

    # when the CSM saves it with htmx
    response = client.post("/portfolio/views/", {"name": "Em andamento", "filters": posted}, HTTP_HX_REQUEST="true")

    # then the block of views answers, with the new one as the current view
    assert response.status_code == 200
    assert "<html" not in response.text
    assert views_of(org.csm_a) == [("Em andamento", "stage=ongoing&sort=-mrr&per_page=50")]
    assert 'href="/portfolio/?stage=ongoing&amp;sort=-mrr&amp;per_page=50" aria-current="page"' in response.text


def test_the_page_lists_the_views_and_opening_one_marks_it(org, client_for):
    speak_english(org.csm_a)
    services.saved_view_save(name="Em andamento", query="stage=ongoing&per_page=50", actor=org.csm_a)
    services.saved_view_save(name="Da Beatriz", query="", actor=org.csm_a2)
    client = client_for(org.csm_a)

    plain = client.get("/portfolio/")
    opened = client.get("/portfolio/?stage=ongoing&per_page=50")

    assert "Em andamento" in plain.text
    assert "Da Beatriz" not in plain.text
    assert 'href="/portfolio/?stage=ongoing&amp;per_page=50" aria-current="page">Em andamento' in opened.text
    assert 'href="/portfolio/" aria-current="page">All customers' in plain.text


def test_a_bad_name_answers_422_with_the_form_and_saves_nothing(org, client_for):
    speak_english(org.csm_a)

    response = client_for(org.csm_a).post(
        "/portfolio/views/", {"name": "x" * 81, "filters": "stage=ongoing"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "Ensure this value has at most 80 characters" in response.text
    assert '<details class="view-tools" open>' in response.text
    assert views_of(org.csm_a) == []


def test_renaming_and_deleting_from_the_page(org, client_for):
    view = services.saved_view_save(name="Renovações", query="sort=renewal", actor=org.csm_a)
    services.saved_view_save(name="Onboarding", query="stage=onboarding", actor=org.csm_a)
    client = client_for(org.csm_a)

    renamed = client.post(f"/portfolio/views/{view.pk}/", {"name": "Renovam logo"}, HTTP_HX_REQUEST="true")
    taken = client.post(f"/portfolio/views/{view.pk}/", {"name": "onboarding"}, HTTP_HX_REQUEST="true")
    deleted = client.post(f"/portfolio/views/{view.pk}/delete/", {"filters": "sort=renewal"})

    assert (renamed.status_code, taken.status_code) == (200, 422)
    assert f'id="id_view_{view.pk}_error"' in taken.text
    assert (deleted.status_code, deleted["Location"]) == (302, "/portfolio/?sort=renewal")
    assert views_of(org.csm_a) == [("Onboarding", "stage=onboarding")]


@pytest.mark.parametrize("who", ["leader_a", "csm_a2", "csm_b", "admin"])
def test_another_persons_view_is_404(org, client_for, who):
    view = services.saved_view_save(name="Minha carteira", query="stage=ongoing", actor=org.csm_a)
    client = client_for(getattr(org, who))

    assert client.post(f"/portfolio/views/{view.pk}/", {"name": "Minha"}).status_code == 404
    assert client.post(f"/portfolio/views/{view.pk}/delete/").status_code == 404
    assert views_of(org.csm_a) == [("Minha carteira", "stage=ongoing")]


def test_the_page_with_views_stays_at_a_fixed_number_of_queries(org, client_for, django_assert_max_num_queries):
    client = client_for(org.csm_a)
    services.saved_view_save(name="Uma", query="", actor=org.csm_a)
    CustomerFactory.create_batch(2, owner=org.csm_a)
    with django_assert_max_num_queries(20) as few:
        client.get("/portfolio/")

    for n in range(8):
        services.saved_view_save(name=f"Visão {n}", query=f"sort=-mrr&q={n}", actor=org.csm_a)
    CustomerFactory.create_batch(8, owner=org.csm_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/portfolio/")

    assert len(response.context["saved_views"]) == 9


# --- The contacts API: archived contacts -----------------------------------------------------------------------------


@pytest.fixture
def contacts(org):
    customer = CustomerFactory(owner=org.csm_a)
    staying = ContactFactory(customer=customer, name="Ana Souza")
    leaving = ContactFactory(customer=customer, name="Bruno Lima")
    services.contact_archive(contact=leaving, actor=org.csm_a)
    return {"customer": customer, "staying": staying, "leaving": leaving}


def names(response) -> list[str]:
    return [c["name"] for c in response.json()["results"]]


def test_the_contacts_list_leaves_archived_ones_out_unless_asked(org, api_for, contacts):
    api = api_for(org.csm_a)

    assert names(api.get(f"{API}/contacts/")) == ["Ana Souza"]
    assert names(api.get(f"{API}/contacts/?archived=false")) == ["Ana Souza"]
    archived = api.get(f"{API}/contacts/?archived=true")
    assert names(archived) == ["Bruno Lima"]
    assert archived.json()["results"][0]["archived_at"] is not None
    # an archived contact is still read by its id
    assert api.get(f"{API}/contacts/{contacts['leaving'].pk}/").json()["name"] == "Bruno Lima"


def test_a_contact_is_archived_and_brought_back_through_the_api(org, api_for, contacts):
    api = api_for(org.csm_a)

    back = api.post(f"{API}/contacts/{contacts['leaving'].pk}/unarchive/")
    gone = api.post(f"{API}/contacts/{contacts['staying'].pk}/archive/")

    assert (back.status_code, back.json()["archived_at"]) == (200, None)
    assert gone.status_code == 200
    assert gone.json()["archived_at"] is not None
    assert names(api.get(f"{API}/contacts/")) == ["Bruno Lima"]


def test_only_who_may_change_the_customer_brings_a_contact_back(org, api_for, contacts):
    leaving = contacts["leaving"]

    assert api_for(org.viewer_a).post(f"{API}/contacts/{leaving.pk}/unarchive/").status_code == 403
    assert api_for(org.csm_b).post(f"{API}/contacts/{leaving.pk}/unarchive/").status_code == 404
    leaving.refresh_from_db()
    assert leaving.archived_at is not None
