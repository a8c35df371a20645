"""Emails about people are built in the worker from ids: a reset link never travels in a task's arguments."""

import ast
import re
from pathlib import Path

import pytest
from django.core import mail

from accounts import emails, services
from tests.factories import UserFactory

ACCOUNTS = Path(__file__).resolve().parents[2] / "accounts"


def accounts_modules_imported_by(module: str) -> set[str]:
    """Every accounts.* module a file imports, at the top or inside a function."""
    tree = ast.parse((ACCOUNTS / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "accounts":
            found |= {f"accounts.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("accounts."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("accounts.")}
    return found


def test_services_queue_tasks_and_nothing_imports_the_services_back():
    assert "accounts.tasks" in accounts_modules_imported_by("services")
    assert "accounts.services" not in accounts_modules_imported_by("tasks")
    assert "accounts.services" not in accounts_modules_imported_by("emails")
    assert "accounts.tasks" not in accounts_modules_imported_by("emails")


@pytest.mark.django_db
def test_a_reset_request_queues_only_the_user_id(django_capture_on_commit_callbacks):
    # given
    user = UserFactory(email="lucas@empresa.com.br")

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.password_reset_request(email="LUCAS@empresa.com.br")

    # then the queued call is the reset task with the id alone
    assert len(callbacks) == 1
    queued = callbacks[0]  # core.jobs.queue(task, user_id, notify=False): nothing more travels
    task, *args = queued.args
    assert task.name == "accounts.tasks.password_reset_send"
    assert args == [user.pk]
    assert queued.keywords == {"notify": False}


@pytest.mark.django_db
def test_a_reset_request_for_an_unknown_or_deactivated_address_queues_nothing(django_capture_on_commit_callbacks):

    UserFactory(email="saiu@empresa.com.br", is_active=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.password_reset_request(email="saiu@empresa.com.br")
        services.password_reset_request(email="ninguem@empresa.com.br")
    assert callbacks == []


@pytest.mark.django_db
def test_the_reset_email_is_made_at_sending_in_the_persons_language(client):

    user = UserFactory(email="ana@empresa.com.br", language="en")

    assert emails.password_reset_send(user_id=user.pk) is True

    message = mail.outbox[0]
    assert message.to == ["ana@empresa.com.br"]
    assert message.subject == "Choose a new Leme password"
    assert message.alternatives[0][1] == "text/html"
    link = re.search(r"http://testserver(/password/reset/\S+/)", message.body).group(1)
    assert link in message.alternatives[0][0]
    assert client.get(link, follow=True).status_code == 200


@pytest.mark.django_db
def test_no_reset_email_for_an_account_deactivated_before_the_worker_ran():

    user = UserFactory(is_active=False)
    assert emails.password_reset_send(user_id=user.pk) is False
    assert mail.outbox == []
