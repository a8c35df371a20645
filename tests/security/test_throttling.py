"""Flooding and guessing are refused with 429 and a Retry-After: the API (anonymous and failed-auth requests
per client address, before any authentication runs; logged-in people per person), password resets (per
address and per email, without telling whether the email exists) and the public survey pages (per address and
per link)."""

import uuid
from unittest import mock

import pytest
import redis
from django.core import mail
from rest_framework.test import APIClient

from core import ratelimit
from portfolio.models import Activity
from surveys.models import Response
from tests.factories import UserFactory
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.test_answers import make_campaign, make_delivery

PROXY = "10.0.0.5"


@pytest.fixture(autouse=True)
def behind_the_load_balancer(settings):
    settings.LEME_TRUSTED_PROXIES = ["10.0.0.0/8"]


def from_address(address: str) -> dict:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": address}


def anon_limit(settings) -> int:
    return int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")[0])


# --- API ---------------------------------------------------------------------------------------------------


def test_anonymous_api_requests_are_throttled_per_client_address(db, settings):
    client = APIClient()
    limit = anon_limit(settings)
    answers = [client.get("/api/v1/customers/", **from_address("203.0.113.66")).status_code for _ in range(limit)]
    assert set(answers) == {401}

    refused = client.get("/api/v1/customers/", **from_address("203.0.113.66"))

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "detail" in refused.json()
    # Someone else behind the same load balancer is not refused.
    assert client.get("/api/v1/customers/", **from_address("198.51.100.20")).status_code == 401


def test_wrong_tokens_count_and_are_refused_before_being_checked(db, settings, django_assert_num_queries):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    for _ in range(anon_limit(settings)):
        assert client.get("/api/v1/customers/", **from_address("203.0.113.66")).status_code == 401

    with django_assert_num_queries(0):
        refused = client.get("/api/v1/customers/", **from_address("203.0.113.66"))

    assert refused.status_code == 429
    assert "Retry-After" in refused


def test_the_refusal_speaks_the_clients_language(db, settings):
    client = APIClient()
    for _ in range(anon_limit(settings)):
        client.get("/api/v1/customers/", **from_address("203.0.113.66"))
    refused = client.get("/api/v1/customers/", HTTP_ACCEPT_LANGUAGE="pt-br", **from_address("203.0.113.66"))
    assert "Muitas requisições" in refused.json()["detail"]


def test_logged_in_api_users_have_a_rate_per_person(org, api_for, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "5/minute"},
    }
    client = api_for(org.csm_a)
    answers = [client.get("/api/v1/customers/", **from_address("198.51.100.20")).status_code for _ in range(5)]
    assert set(answers) == {200}

    refused = client.get("/api/v1/customers/", **from_address("198.51.100.21"))

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    # Another person from the same address has a rate of their own.
    assert api_for(org.csm_a2).get("/api/v1/customers/", **from_address("198.51.100.20")).status_code == 200


# --- Password reset ------------------------------------------------------------------------------------------


def test_password_resets_are_limited_per_address(client, db, settings, django_capture_on_commit_callbacks):
    for n in range(30):
        UserFactory(email=f"pessoa{n}@empresa.com.br")
    statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(30):
            response = client.post(
                "/password/reset/", {"email": f"pessoa{n}@empresa.com.br"}, **from_address("203.0.113.66")
            )
            statuses.append(response.status_code)
    allowed = int(settings.LEME_PASSWORD_RESET_RATES["address"].split("/")[0])
    assert statuses == [302] * allowed + [429] * (30 - allowed)
    assert len(mail.outbox) == allowed
    refused = client.post("/password/reset/", {"email": "pessoa0@empresa.com.br"}, **from_address("203.0.113.66"))
    assert "Muitas solicitações" in refused.text
    assert int(refused["Retry-After"]) > 0
    # Another address still can.
    other = client.post("/password/reset/", {"email": "pessoa1@empresa.com.br"}, **from_address("198.51.100.20"))
    assert other.status_code == 302


def test_password_resets_are_limited_per_email_without_telling_whether_it_exists(
    client, db, settings, django_capture_on_commit_callbacks
):
    UserFactory(email="lucas@empresa.com.br")
    per_email = int(settings.LEME_PASSWORD_RESET_RATES["email"].split("/")[0])
    known, unknown = [], []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(per_email + 2):
            address = from_address(f"203.0.113.{n + 1}")
            known.append(client.post("/password/reset/", {"email": " Lucas@Empresa.com.br"}, **address))
            unknown.append(client.post("/password/reset/", {"email": "ninguem@empresa.com.br"}, **address))
    assert len(mail.outbox) == per_email
    assert [(r.status_code, r["Location"]) for r in known] == [(r.status_code, r["Location"]) for r in unknown]
    assert {r.status_code for r in known} == {302}


# --- Public survey pages -----------------------------------------------------------------------------------


@pytest.fixture
def survey_link(org):
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a), name="Ana Souza")
    delivery, token = make_delivery(make_campaign("nps"), contact=contact, language="en")
    return delivery, f"/s/{token}/"


def test_a_survey_link_is_limited_per_token(client, survey_link, settings):
    settings.LEME_SURVEY_PUBLIC_RATES = {**settings.LEME_SURVEY_PUBLIC_RATES, "token": "5/minute"}
    _, url = survey_link
    statuses = [client.get(url, **from_address(f"203.0.113.{n + 1}")).status_code for n in range(5)]
    assert statuses == [200] * 5

    refused = client.get(url, HTTP_ACCEPT_LANGUAGE="en", **from_address("203.0.113.99"))

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many requests" in refused.text
    assert refused["Content-Language"] == "en"


def test_the_survey_pages_are_limited_per_address_even_for_unknown_links(client, survey_link, settings):
    settings.LEME_SURVEY_PUBLIC_RATES = {**settings.LEME_SURVEY_PUBLIC_RATES, "address": "10/minute"}
    for n in range(10):
        assert client.get(f"/s/nao-existe-{n}/", **from_address("203.0.113.66")).status_code == 404

    _, url = survey_link
    refused = client.get(url, HTTP_ACCEPT_LANGUAGE="pt-br", **from_address("203.0.113.66"))

    assert refused.status_code == 429
    assert "Muitas solicitações" in refused.text
    assert refused["Content-Language"] == "pt-br"
    assert client.get(url, **from_address("198.51.100.20")).status_code == 200


def test_repeating_the_same_answer_adds_no_timeline_entry(client, survey_link, settings):
    settings.LEME_SURVEY_PUBLIC_RATES = {"address": "1000/minute", "token": "1000/minute"}
    delivery, url = survey_link
    for _ in range(50):
        assert client.post(url, {"score": "9", "comment": "Ótimo"}).status_code == 303
    assert Response.objects.filter(delivery=delivery).count() == 1
    assert Activity.objects.filter(kind="survey").count() == 1

    client.post(url, {"score": "9", "comment": "Ótimo, mas caro"})
    client.post(url, {"score": "6", "comment": "Ótimo, mas caro"})

    assert Activity.objects.filter(kind="survey").count() == 3


# --- In Redis, as in production ----------------------------------------------------------------------------------


@pytest.fixture
def redis_cache(settings):
    """The rate limits counting in Redis, production's cache (the test broker's Redis, keys of this test's own)."""
    prefix = f"leme-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    store = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield store, prefix
    for key in store.scan_iter(f"{prefix}:*"):
        store.delete(key)


def test_in_redis_a_request_is_counted_in_one_round_trip(redis_cache):
    store, prefix = redis_cache
    sent = []
    execute = redis.Redis.execute_command

    def counting(client, *args, **options):
        sent.append(args[0])
        return execute(client, *args, **options)

    with mock.patch.object(redis.Redis, "execute_command", counting):
        verdicts = [ratelimit.hit("survey-token", "a-token", "3/minute") for _ in range(4)]

    assert sent == ["EVAL"] * 4
    assert [(v.allowed, v.count) for v in verdicts] == [(True, 1), (True, 2), (True, 3), (False, 4)]
    assert 0 < verdicts[-1].retry_after <= 60
    [key] = list(store.scan_iter(f"{prefix}:*"))
    assert 0 < store.ttl(key) <= 61  # the window's length and a second, set on its first request only
    # What peek() reads back through the cache is the same count.
    assert ratelimit.peek("survey-token", "a-token", "3/minute").count == 4


def test_in_redis_a_survey_link_is_still_limited_per_token(client, survey_link, settings, redis_cache):
    settings.LEME_SURVEY_PUBLIC_RATES = {**settings.LEME_SURVEY_PUBLIC_RATES, "token": "3/minute"}
    _, url = survey_link

    statuses = [client.get(url, **from_address(f"203.0.113.{n + 1}")).status_code for n in range(4)]

    assert statuses == [200, 200, 200, 429]
