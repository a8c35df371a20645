import re

import pytest
from django.core import mail

from tests.factories import UserFactory

PASSWORD = "senha-de-teste-123"


@pytest.fixture
def csm(db):
    return UserFactory(email="lucas@empresa.com.br", full_name="Lucas Almeida")


def login(client, email, password):
    return client.post("/login/", {"username": email, "password": password})


def test_login_by_email_in_any_case(client, csm):
    response = login(client, "  LUCAS@Empresa.com.br ", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_says_so_and_keeps_the_email(client, csm):
    response = login(client, "lucas@empresa.com.br", "errada")
    assert response.status_code == 200
    assert 'value="lucas@empresa.com.br"' in response.text
    assert "não conferem" in response.text


def test_pages_need_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_attempts_are_rate_limited(client, csm, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "lucas@empresa.com.br", "errada")
    locked = login(client, "lucas@empresa.com.br", PASSWORD)
    assert locked.status_code == 429
    assert "Muitas tentativas" in locked.text
    assert client.get("/").status_code == 302


def test_lockout_is_per_email_so_others_still_log_in(client, csm, settings):
    other = UserFactory(email="bia@empresa.com.br")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "lucas@empresa.com.br", "errada")
    assert login(client, other.email, PASSWORD).status_code == 302


def test_logout_is_a_post(client, csm):
    client.force_login(csm)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_password_reset_sends_a_working_link(client, csm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/password/reset/", {"email": "lucas@empresa.com.br"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lucas@empresa.com.br"]
    assert message.alternatives[0][1] == "text/html"
    link = re.search(r"http://testserver(/password/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "outra-senha-forte-9", "new_password2": "outra-senha-forte-9"}
    )
    assert done.status_code == 302
    assert login(client, "lucas@empresa.com.br", "outra-senha-forte-9").status_code == 302


def test_password_reset_for_unknown_email_reveals_nothing(client, db):
    response = client.post("/password/reset/", {"email": "ninguem@empresa.com.br"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_change_rejects_a_weak_password_with_a_message(client, csm):
    client.force_login(csm)
    response = client.post(
        "/password/change/", {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 200
    assert "muito curta" in response.text


def test_language_switch_is_remembered_on_the_profile(client, csm):
    client.force_login(csm)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    csm.refresh_from_db()
    assert csm.language == "en"
    assert "My day" in client.get("/").text
