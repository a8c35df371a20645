"""Fixtures shared by the whole suite: people in two teams, a real SMTP server, a real Celery worker,
and a real browser."""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from django.test import Client, TransactionTestCase

from accounts.models import Role
from tests.factories import LeaderFactory, TeamFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the live server
# happen in its own threads, so the async-safety check only gets in the way of the test's own setup.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# --- Reference data ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def live_server_database(request):
    """A page served by the live server reads what the test wrote: its thread has its own connection, so a
    browser test runs on the transactional database (emptied, then the migrated state put back, as it ends)."""
    if "live_server" in request.fixturenames and "transactional_db" not in request.fixturenames:
        request.getfixturevalue("transactional_db")


# Tables that the migrations fill and no test writes: kept as they are when a transactional test ends.
KEPT_TABLES = ["django_migrations", "django_content_type", "auth_permission"]
# The rows the data migrations install (churn taxonomy, journey policies, health profiles, default playbooks…),
# copied once, before the first transactional test writes, into a schema of their own.
SNAPSHOT_SQL = """
DROP SCHEMA IF EXISTS leme_migrated CASCADE;
CREATE SCHEMA leme_migrated;
DO $$
DECLARE name text; has_rows boolean;
BEGIN
  FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> ALL(%s) LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %%I)', name) INTO has_rows;
    IF has_rows THEN
      EXECUTE format('CREATE TABLE leme_migrated.%%I AS TABLE %%I', name, name);
    END IF;
  END LOOP;
END $$;
"""
# The tables are emptied and filled with the triggers off (``session_replication_role``, for this transaction only): a
# tally the database keeps by triggers (health's band tally, the first values') would otherwise count the DELETE of
# the rows it tallies after it was itself emptied, or not, as the catalogue happens to order the tables.
EMPTY_THEN_RESTORE_SQL = """
SET LOCAL session_replication_role = replica;
SET CONSTRAINTS ALL DEFERRED;
DO $$
DECLARE name text;
BEGIN
  FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> ALL(%s) LOOP
    EXECUTE format('DELETE FROM %%I', name);
  END LOOP;
  FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'leme_migrated' LOOP
    EXECUTE format('INSERT INTO %%I SELECT * FROM leme_migrated.%%I', name, name);
  END LOOP;
END $$;
"""
_snapshots: set[str] = set()


def _fast_database(self, alias: str) -> bool:
    from django.db import connections

    return connections[alias].vendor == "postgresql" and not self.serialized_rollback and self.available_apps is None


def _snapshot_then_setup(cls) -> None:
    from django.db import connections

    for alias in cls._databases_names(include_mirrors=False):
        if alias not in _snapshots and _fast_database(cls, alias):
            with connections[alias].cursor() as cursor:
                cursor.execute(SNAPSHOT_SQL, [KEPT_TABLES])
            _snapshots.add(alias)
    _django_fixture_setup(cls)


def _empty_then_restore(self) -> None:
    """When a transactional test ends, every table is emptied with one DELETE each, in one transaction (the
    foreign keys are deferred to its end), and the migrated rows are copied back: one round trip of a few
    milliseconds. Django's flush TRUNCATEs every table (new files for each table and index) and re-creates the
    content types and permissions, and the data migrations' rows would then be put back by Python: about a second
    per test, most of the suite's time."""
    from django.db import connections, transaction

    for alias in self._databases_names(include_mirrors=False):
        if alias not in _snapshots or not _fast_database(self, alias):
            _django_fixture_teardown(self)
            return
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            cursor.execute(EMPTY_THEN_RESTORE_SQL, [KEPT_TABLES])


_django_fixture_setup = TransactionTestCase._fixture_setup.__func__
_django_fixture_teardown = TransactionTestCase._fixture_teardown
TransactionTestCase._fixture_setup = classmethod(_snapshot_then_setup)
TransactionTestCase._fixture_teardown = _empty_then_restore


# --- Language ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in Leme's default language: a request by a person who reads English leaves English
    active in the test's thread (the middleware activates the person's language and nothing resets it)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


# --- Rate-limit counters ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_rate_counters():
    """The rate limits count in the cache (core/ratelimit.py), in this process's memory under the tests:
    each test starts with none counted."""
    from django.core.cache import cache

    cache.clear()


# --- After commit ------------------------------------------------------------------------------------


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what the enclosed code queued for after commit (event subscribers, emails)
    as the block ends, as a real commit would."""

    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


# --- People ------------------------------------------------------------------------------------


@dataclass
class Org:
    """Two teams, each with a leader and CSMs, plus an ISM, a farmer, an admin and viewers."""

    team_a: object
    team_b: object
    leader_a: object
    leader_b: object
    csm_a: object
    csm_a2: object
    csm_b: object
    ism_a: object
    farmer_a: object
    admin: object
    viewer_a: object
    viewer_all: object
    extra: dict = field(default_factory=dict)


@pytest.fixture
def org(db) -> Org:
    team_a = TeamFactory(name="Time Enterprise")
    team_b = TeamFactory(name="Time SMB")
    return Org(
        team_a=team_a,
        team_b=team_b,
        leader_a=LeaderFactory(team=team_a, full_name="Mariana Costa"),
        leader_b=LeaderFactory(team=team_b, full_name="Fernando Dias"),
        csm_a=UserFactory(team=team_a, full_name="Lucas Almeida"),
        csm_a2=UserFactory(team=team_a, full_name="Beatriz Santos"),
        csm_b=UserFactory(team=team_b, full_name="Camila Ferreira"),
        ism_a=UserFactory(team=team_a, role=Role.ISM, full_name="Juliana Pereira"),
        farmer_a=UserFactory(team=team_a, role=Role.FARMER, full_name="Gustavo Lima"),
        admin=UserFactory(role=Role.ADMIN, full_name="Renata Azevedo"),
        viewer_a=UserFactory(team=team_a, role=Role.VIEWER, full_name="Paula Souza"),
        viewer_all=UserFactory(role=Role.VIEWER, full_name="Otávio Nunes"),
    )


@pytest.fixture
def client_for():
    """A logged-in Django test client for a user."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_for():
    """An API client that sends a personal (full) token of ``user``, as scripts do."""
    from rest_framework.test import APIClient

    from accounts import services

    def make(user) -> APIClient:
        client = APIClient()
        _token, key = services.api_token_create(user=user, name="Testes", actor=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


# --- A real SMTP server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpInbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_server(settings) -> Iterator[tuple[SmtpInbox, str]]:
    """An SMTP server in this process; Django sends to it. Yields the inbox and its EMAIL_URL."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


# --- A real Celery worker on the real broker --------------------------------------------------------


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """Start ``celery worker`` as a separate process on Redis, against the test database.

    The test's own producer stops running tasks eagerly, and sends to queues that only this worker
    reads (a default queue of its own, and the bulk-mail and nightly queues named after it), so stray
    messages from other runs cannot interfere.
    """
    from config.celery import app
    from config.settings.base import celery_queues, celery_routing

    queue = f"leme-test-{uuid.uuid4().hex[:8]}"
    queues = list(celery_queues(queue).values())
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"

    def start(extra_env: dict | None = None) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "TEST_DATABASE_URL": database_url,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            # A worker sends its follow-up tasks (retries, next batches) through the broker, as in production.
            "CELERY_TASK_ALWAYS_EAGER": "false",
            **(extra_env or {}),
        }
        proc = subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "solo",
                "-Q",
                ",".join(queues),
                "-l",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
        )
        started.append(proc)
        return proc

    started: list[subprocess.Popen] = []
    eager, default_queue, routes = app.conf.task_always_eager, app.conf.task_default_queue, app.conf.task_routes
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    # update(), not assignment: it is what makes Celery rebuild its router from the new routes.
    app.conf.update(task_routes=celery_routing(queue)[1])
    try:
        yield start
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = eager, default_queue
        app.conf.update(task_routes=routes)
        for proc in started:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        with app.connection_for_write() as conn:
            for name in queues:
                conn.default_channel.queue_purge(name)


# --- A real browser -----------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: bin/test installs it with apt-get install chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under test-artifacts/ to be looked at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def login_page():
    """Log a user in through the real login form."""

    def do(page, user, password="senha-de-teste-123"):
        page.goto(f"{page.base_url}/login/")
        page.fill("input[name=username]", user.email)
        page.fill("input[name=password]", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_load_state("networkidle")

    return do
