"""The door, for people: who sees whom. Customer data has its own tests in tests/portfolio."""

import pytest
from django.db.models import Q

from accounts.access import NOTHING, can_reassign, can_write, visible_filter
from accounts.models import User
from accounts.selectors import users_visible_to

PEOPLE = ("owner", "implementation_manager", "farmer")


def names(qs) -> set[str]:
    return set(qs.values_list("full_name", flat=True))


@pytest.mark.django_db
def test_admin_sees_everyone(org):
    assert users_visible_to(org.admin).count() == User.objects.count()


@pytest.mark.django_db
def test_leader_sees_own_team_only(org):
    assert names(users_visible_to(org.leader_a)) == {
        "Mariana Costa",
        "Lucas Almeida",
        "Beatriz Santos",
        "Juliana Pereira",
        "Gustavo Lima",
        "Paula Souza",
    }


@pytest.mark.django_db
def test_csm_sees_only_themself(org):
    assert names(users_visible_to(org.csm_a)) == {"Lucas Almeida"}


@pytest.mark.django_db
def test_filters_per_role(org):
    assert visible_filter(org.admin, people=PEOPLE) == Q()
    assert visible_filter(org.viewer_all, people=PEOPLE) == Q()
    csm_filter = visible_filter(org.csm_a, people=PEOPLE)
    assert csm_filter == Q(owner=org.csm_a.pk) | Q(implementation_manager=org.csm_a.pk) | Q(farmer=org.csm_a.pk)
    org.csm_a.is_active = False
    assert visible_filter(org.csm_a, people=PEOPLE) == NOTHING


@pytest.mark.django_db
def test_write_and_reassign_rights(org):
    assert [can_write(u) for u in (org.admin, org.leader_a, org.csm_a, org.ism_a, org.farmer_a, org.viewer_a)] == [
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    assert [can_reassign(u) for u in (org.admin, org.leader_a, org.csm_a, org.viewer_a)] == [True, True, False, False]


@pytest.mark.django_db
def test_users_api_is_scoped_and_another_team_is_404(org, api_for):
    api = api_for(org.leader_a)
    listed = {row["full_name"] for row in api.get("/api/v1/users/").json()["results"]}
    assert "Camila Ferreira" not in listed
    assert "Lucas Almeida" in listed
    assert api.get(f"/api/v1/users/{org.csm_b.pk}/").status_code == 404
    assert api.get(f"/api/v1/users/{org.csm_a.pk}/").status_code == 200


@pytest.mark.django_db
def test_api_requires_authentication(client):
    assert client.get("/api/v1/users/").status_code == 401


@pytest.mark.django_db
def test_team_page_is_for_leaders_and_admins(org, client_for):
    assert client_for(org.csm_a).get("/team/").status_code == 403
    response = client_for(org.leader_a).get("/team/")
    assert response.status_code == 200
    assert "Lucas Almeida" in response.text
    assert "Camila Ferreira" not in response.text
    assert "Camila Ferreira" in client_for(org.admin).get("/team/").text


@pytest.mark.django_db
def test_team_page_query_count_is_constant(org, client_for, django_assert_max_num_queries):
    from tests.factories import UserFactory

    client = client_for(org.admin)
    with django_assert_max_num_queries(12) as few:
        page = client.get("/team/")
    assert page.status_code == 200
    assert all(name in page.text for name in ("Lucas Almeida", "Camila Ferreira"))
    added = [UserFactory(team=org.team_a, full_name=f"Pessoa Nova {n:02}").full_name for n in range(20)]
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/team/")
    assert page.status_code == 200
    assert all(name in page.text for name in ["Lucas Almeida", "Camila Ferreira", *added])
