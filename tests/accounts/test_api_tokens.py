"""API tokens: hashed, shown once, revoked by hand or by a new password; integration tokens that only post usage
events; no-store on logged-in pages; passwords like the person's name refused."""

import hashlib
import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken, TokenScope, User
from core import clock
from tests.portfolio.factories import CustomerFactory
from tests.test_door import LITERALS, routes

pytestmark = pytest.mark.django_db

PASSWORD = "senha-de-teste-123"
NEW = "outra-senha-bem-longa-7"
KEY = re.compile(r'<code class="api-token" id="new-key">([^<]+)</code>')


def api(key: str, keyword: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def create_on_profile(client, name="Relatório semanal") -> str:
    response = client.post("/profile/tokens/", {"name": name})
    assert response.status_code == 200
    return KEY.search(response.text)[1]


# --- Personal tokens -------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_and_works_with_token_or_bearer(org, client_for):
    client = client_for(org.csm_a)

    key = create_on_profile(client)

    token = ApiToken.objects.get(user=org.csm_a)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.scope == TokenScope.FULL
    assert key.startswith(token.prefix)
    assert len(key) > 40
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(key in value for value in stored)
    page = client.get("/profile/").text
    assert key not in page
    assert "Relatório semanal" in page
    assert f"{token.prefix}…" in page
    for keyword in ("Token", "Bearer", "bearer"):
        me = api(key, keyword).get("/api/v1/users/me/")
        assert me.status_code == 200
        assert me.json()["email"] == org.csm_a.email
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_needs_a_name_and_says_so(org, client_for):
    response = client_for(org.csm_a).post("/profile/tokens/", {"name": "  "})
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_a_wrong_or_malformed_key_is_401(org):
    assert api("leme_nada").get("/api/v1/users/me/").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION="Token").get("/api/v1/users/me/").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION="Token a b").get("/api/v1/users/me/").status_code == 401


def test_revoking_a_token_stops_it_and_nobody_else_revokes_it(org, client_for):
    _token, key = services.api_token_create(user=org.csm_a, name="Planilha XPTO", actor=org.csm_a)
    token = ApiToken.objects.get(user=org.csm_a)

    # another team's CSM and leader: it does not exist for them
    assert client_for(org.csm_b).post(f"/profile/tokens/{token.pk}/revoke/").status_code == 404
    assert client_for(org.leader_b).post(f"/profile/tokens/{token.pk}/revoke/").status_code == 404
    assert client_for(org.csm_a2).post(f"/profile/tokens/{token.pk}/revoke/").status_code == 404
    assert api(key).get("/api/v1/users/me/").status_code == 200

    response = client_for(org.csm_a).post(f"/profile/tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api(key).get("/api/v1/users/me/").status_code == 401
    assert "Planilha XPTO" not in client_for(org.csm_a).get("/profile/").text


def test_a_leader_revokes_a_token_of_their_team(org, client_for):
    token, key = services.api_token_create(user=org.csm_a, name="Script", actor=org.csm_a)

    assert client_for(org.leader_a).post(f"/profile/tokens/{token.pk}/revoke/").status_code == 302

    assert api(key).get("/api/v1/users/me/").status_code == 401


def test_a_deactivated_person_s_token_stops_working(org):
    _token, key = services.api_token_create(user=org.csm_a, name="Script", actor=org.csm_a)
    User.objects.filter(pk=org.csm_a.pk).update(is_active=False)
    assert api(key).get("/api/v1/users/me/").status_code == 401


# --- A new password revokes every personal token ------------------------------------------------------------


def tokens_of(user, name="Script"):
    _token, key = services.api_token_create(user=user, name=name, actor=user)
    return key


def test_changing_the_password_on_the_page_revokes_the_tokens(org, client_for):
    key = tokens_of(org.csm_a)
    other = tokens_of(org.csm_a2)

    response = client_for(org.csm_a).post(
        "/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "outra-senha-bem-longa-7",
            "new_password2": "outra-senha-bem-longa-7",
        },
    )

    assert response.status_code == 302
    assert api(key).get("/api/v1/users/me/").status_code == 401
    assert api(other).get("/api/v1/users/me/").status_code == 200


def test_a_password_reset_revokes_the_tokens(org, client):
    key = tokens_of(org.csm_a)
    uid = urlsafe_base64_encode(force_bytes(org.csm_a.pk))
    url = client.get(f"/password/reset/{uid}/{default_token_generator.make_token(org.csm_a)}/")["Location"]

    response = client.post(url, {"new_password1": NEW, "new_password2": NEW})

    assert response.status_code == 302
    assert api(key).get("/api/v1/users/me/").status_code == 401


def test_a_password_set_by_the_admin_or_a_command_revokes_the_tokens_but_not_the_integrations(org):
    key = tokens_of(org.admin)
    _integration, integration_key = services.api_token_create(
        user=org.admin, name="Produto", actor=org.admin, scope=TokenScope.USAGE_EVENTS
    )
    admin = User.objects.get(pk=org.admin.pk)

    admin.set_password("outra-senha-bem-longa-7")
    admin.save()

    assert api(key).get("/api/v1/users/me/").status_code == 401
    assert api(integration_key).post("/api/v1/usage-events/", {"events": []}, format="json").status_code == 400


def test_saving_a_person_without_a_new_password_keeps_the_tokens(org):
    key = tokens_of(org.csm_a)
    user = User.objects.get(pk=org.csm_a.pk)
    user.full_name = "Lucas A. Almeida"
    user.save()
    assert user.check_password(PASSWORD)
    assert api(key).get("/api/v1/users/me/").status_code == 200


# --- Integration tokens: usage events, nothing else ---------------------------------------------------------


def test_admins_create_integration_tokens_on_the_integrations_page(org, client_for):
    admin = client_for(org.admin)
    assert admin.get("/integrations/").status_code == 200

    response = admin.post("/integrations/", {"name": "Eventos do produto"})

    assert response.status_code == 200
    key = KEY.search(response.text)[1]
    token = ApiToken.objects.get(scope=TokenScope.USAGE_EVENTS)
    assert token.user == org.admin
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in admin.get("/integrations/").text
    assert client_for(org.leader_a).get("/integrations/").status_code == 403
    assert client_for(org.csm_a).post("/integrations/", {"name": "x"}).status_code == 403
    assert client_for(org.csm_a).post(f"/integrations/{token.pk}/revoke/").status_code == 403
    # an integration token is not a personal one: the profile's revoke does not reach it
    assert admin.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 404

    assert admin.post(f"/integrations/{token.pk}/revoke/").status_code == 302

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api(key).post("/api/v1/usage-events/", {"events": []}, format="json").status_code == 401


def test_only_admins_make_integration_tokens_in_the_service(org):
    with pytest.raises(PermissionDenied):
        services.api_token_create(user=org.leader_a, name="x", actor=org.leader_a, scope=TokenScope.USAGE_EVENTS)


def test_an_integration_token_gets_403_on_every_other_api_route(org):
    # given an integration token, and a customer so that its one endpoint has something to take
    _token, key = services.api_token_create(
        user=org.admin, name="Produto", actor=org.admin, scope=TokenScope.USAGE_EVENTS
    )
    customer = CustomerFactory(owner=org.csm_a)
    client = api(key)
    wrong, checked = [], 0

    # when it calls every API route with every method it has
    for route in routes():
        if not route.is_api or route.name == "usage-events":
            continue
        values = {p: LITERALS.get(p, 1) for p in route.params}
        url = route.url(values)
        for method in route.methods():
            response = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
            checked += 1
            if response.status_code != 403:
                wrong.append(f"{method.upper()} {url}: {response.status_code}")

    # then each is refused, and the usage-events endpoint takes events
    assert wrong == []
    assert checked > 40
    event = {
        "event_id": "e-1",
        "customer": customer.pk,
        "user_id": "u-1",
        "event": "login",
        "timestamp": "2026-01-01T10:00:00-03:00",
    }

    with clock.at(datetime(2026, 1, 2, tzinfo=UTC)):
        response = client.post("/api/v1/usage-events/", {"events": [event]}, format="json")
    assert response.status_code == 201, response.json()


# --- Everything else in this area -----------------------------------------------------------------------------


def test_migrated_drf_tokens_keep_working_and_the_plain_table_goes(org):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0003_authtoken_keys_hashed")
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created timestamptz)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, now())", [old_key, org.csm_a.pk])

    with connection.schema_editor() as editor:
        migration.hash_old_keys(apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    token = ApiToken.objects.get(user=org.csm_a)
    assert token.prefix == old_key[:8]
    assert token.key_hash == hashlib.sha256(old_key.encode()).hexdigest()
    assert api(old_key).get("/api/v1/users/me/").json()["email"] == org.csm_a.email


def test_logged_in_pages_are_never_stored_and_anonymous_ones_keep_their_headers(org, client_for, client):
    page = client_for(org.csm_a).get("/profile/")
    assert "no-store" in page["Cache-Control"]
    assert "private" in page["Cache-Control"]
    assert "no-store" in client_for(org.csm_a).get("/portfolio/")["Cache-Control"]
    assert "no-store" in client_for(org.csm_a).get("/api/v1/users/me/")["Cache-Control"]
    # a public page keeps its own headers
    assert "no-store" not in client.get("/nada-aqui/").get("Cache-Control", "")


def test_a_password_like_the_person_s_name_is_refused(org, client_for):
    person = User(email="lucas@empresa.com.br", full_name="Lucas Almeida")
    with pytest.raises(ValidationError, match=r"parecida|similar"):
        validate_password("lucasalmeida1", user=person)
    validate_password("caravela-azul-do-norte", user=person)

    response = client_for(org.csm_a).post(
        "/password/change/",
        {"old_password": PASSWORD, "new_password1": "lucasalmeida1", "new_password2": "lucasalmeida1"},
    )
    assert response.status_code == 200
    assert User.objects.get(pk=org.csm_a.pk).check_password(PASSWORD)


def test_the_token_lists_take_the_same_queries_for_more_tokens(org, client_for, django_assert_max_num_queries):
    admin = client_for(org.admin)
    services.api_token_create(user=org.admin, name="Um", actor=org.admin, scope=TokenScope.USAGE_EVENTS)
    services.api_token_create(user=org.admin, name="Pessoal", actor=org.admin)
    with django_assert_max_num_queries(20) as few:
        assert admin.get("/integrations/").status_code == 200
        assert admin.get("/profile/").status_code == 200
    for n in range(5):
        services.api_token_create(user=org.admin, name=f"Int {n}", actor=org.admin, scope=TokenScope.USAGE_EVENTS)
        services.api_token_create(user=org.admin, name=f"Pessoal {n}", actor=org.admin)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Int 4" in admin.get("/integrations/").text
        assert "Pessoal 4" in admin.get("/profile/").text
