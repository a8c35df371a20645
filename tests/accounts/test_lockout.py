"""The login lockout behind the load balancer: who is locked out is decided by the client's own address
(read through the trusted proxies), failures count per address across emails too, and an email counts the
same however it is typed."""

import pytest
from django.test import Client, RequestFactory

from core.clientip import client_address
from tests.factories import UserFactory

PASSWORD = "senha-de-teste-123"
PROXY = "10.0.0.5"


@pytest.fixture(autouse=True)
def behind_the_load_balancer(settings):
    settings.LEME_TRUSTED_PROXIES = ["10.0.0.0/8"]


@pytest.fixture
def lucas(db):
    return UserFactory(email="lucas@empresa.com.br", full_name="Lucas Almeida")


def login_from(client: Client, address: str, email: str, password: str, **extra):
    """A login POST as the load balancer passes it on: from the proxy, with the client in X-Forwarded-For."""
    return client.post(
        "/login/",
        {"username": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=address,
        **extra,
    )


# --- The client's address ---------------------------------------------------------------------------------


def request_with(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_the_client_is_the_right_most_address_our_proxies_did_not_write():
    # The client sent a made-up "1.2.3.4"; the edge proxy appended the real client, the inner one itself.
    request = request_with(PROXY, "1.2.3.4, 203.0.113.9, 10.0.0.7")
    assert client_address(request) == "203.0.113.9"


def test_forwarded_for_is_ignored_unless_the_request_comes_from_a_trusted_proxy():
    assert client_address(request_with("198.51.100.20", "1.2.3.4")) == "198.51.100.20"


def test_without_trusted_proxies_the_socket_address_is_the_client(settings):
    settings.LEME_TRUSTED_PROXIES = []
    assert client_address(request_with(PROXY, "203.0.113.9")) == PROXY


def test_a_request_from_inside_is_the_nearest_trusted_address():
    assert client_address(request_with(PROXY, "10.1.2.3")) == "10.1.2.3"
    assert client_address(request_with(PROXY)) == PROXY


def test_ipv6_and_ports_are_read():
    assert client_address(request_with(PROXY, "[2001:db8::1]:443")) == "2001:db8::1"
    assert client_address(request_with(PROXY, "203.0.113.9:51234")) == "203.0.113.9"
    assert client_address(request_with("::ffff:198.51.100.20")) == "198.51.100.20"


# --- Lockout per client -----------------------------------------------------------------------------------


def test_someone_outside_cannot_lock_a_colleague_out(client, lucas, settings):
    # given: someone on the internet fails Lucas's password until locked out
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_from(client, "203.0.113.66", "lucas@empresa.com.br", "errada")
    assert login_from(client, "203.0.113.66", "lucas@empresa.com.br", PASSWORD).status_code == 429
    # then: Lucas, from the office, still logs in through the same load balancer
    response = login_from(Client(), "198.51.100.20", "lucas@empresa.com.br", PASSWORD)
    assert response.status_code == 302


def test_an_email_counts_the_same_however_it_is_typed(client, lucas, settings):
    spellings = ["lucas@empresa.com.br", "LUCAS@empresa.com.br", " Lucas@Empresa.com.br ", "lucas@EMPRESA.COM.BR"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login_from(client, "203.0.113.66", spellings[attempt % len(spellings)], "errada")
    response = login_from(client, "203.0.113.66", "lucas@empresa.com.br", PASSWORD)
    assert response.status_code == 429


def test_spraying_one_guess_across_many_emails_is_refused_per_address(client, lucas, settings):
    # given: one guess each on many accounts, from one address
    for n in range(settings.LEME_LOGIN_ADDRESS_FAILURE_LIMIT):
        response = login_from(client, "203.0.113.66", f"pessoa{n}@empresa.com.br", "Senha2026!")
        assert response.status_code in (200, 429)
    # when: that address tries yet another account, even with the right password
    refused = login_from(client, "203.0.113.66", "lucas@empresa.com.br", PASSWORD)
    # then: refused with a message that says why, and not logged in
    assert refused.status_code == 429
    assert "Muitas tentativas" in refused.text
    assert "deste endereço" in refused.text
    assert client.get("/").status_code == 302
    # and: people elsewhere are not affected
    assert login_from(Client(), "198.51.100.20", "lucas@empresa.com.br", PASSWORD).status_code == 302


def test_failures_under_the_address_limit_do_not_refuse_a_right_password(client, lucas, settings):
    for n in range(settings.LEME_LOGIN_ADDRESS_FAILURE_LIMIT - 1):
        login_from(client, "203.0.113.66", f"pessoa{n}@empresa.com.br", "Senha2026!")
    assert login_from(client, "203.0.113.66", "lucas@empresa.com.br", PASSWORD).status_code == 302


def test_the_lockout_message_speaks_english_to_an_english_browser(client, lucas, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_from(client, "203.0.113.66", "lucas@empresa.com.br", "errada", HTTP_ACCEPT_LANGUAGE="en")
    locked = login_from(client, "203.0.113.66", "lucas@empresa.com.br", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert locked.status_code == 429
    assert "Too many failed log-ins for this email" in locked.text
    assert "15 minutes" in locked.text
