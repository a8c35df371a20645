"""A broker that cannot be reached never turns a committed write into a 500: the job that write queued goes to
the outbox (core.jobs, accounts.outbox), the person is told it will go out, and the beat's outbox_flush queues
it once the broker is back, once. The broker really is unreachable here: Celery points at a closed port and
does not run tasks in-process."""

import time
import uuid
from collections.abc import Iterator

import pytest
from django.core import mail
from kombu import pools

from accounts import outbox
from accounts.models import Invitation, OutboxJob
from accounts.tasks import outbox_flush
from config.settings.base import celery_routing
from core import events, jobs
from portfolio.events import ContactOptedOut
from surveys.models import CampaignMode, CampaignStatus, DeliveryStatus, Trigger
from surveys.tasks import campaign_run
from tests.accounts.test_worker import wait_until
from tests.conftest import free_port
from tests.portfolio.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import activate
from tests.surveys.test_results import make_campaign

# Real commits: the jobs are queued once the writes commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def _use_broker(app, url: str) -> None:
    app.conf.broker_url = url
    # The connection pools were built for the previous address: drop them (kombu's are shared by address).
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


class Broker:
    """The test's broker: ``down()`` points Celery at a closed port, ``up()`` back at the real one; jobs are
    sent, never run in-process, to queues of this test's own."""

    def __init__(self, app, settings) -> None:
        self.app, self.settings = app, settings
        self.real_url = app.conf.broker_url
        self.queue = f"leme-test-{uuid.uuid4().hex[:8]}"

    def down(self) -> None:
        url = f"redis://127.0.0.1:{free_port()}/0"
        self.settings.CELERY_BROKER_URL = url
        _use_broker(self.app, url)

    def up(self) -> None:
        self.settings.CELERY_BROKER_URL = self.real_url
        _use_broker(self.app, self.real_url)

    def waiting(self) -> int:
        """Messages waiting in this test's queues."""
        with self.app.connection_for_write() as conn:
            return sum(conn.default_channel.client.llen(f"{self.queue}{suffix}") for suffix in ("", ".mail"))


@pytest.fixture
def broker(settings) -> Iterator[Broker]:
    from config.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue, app.conf.task_routes
    controller = Broker(app, settings)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.conf.task_default_queue = controller.queue
    app.conf.update(task_routes=celery_routing(controller.queue)[1])
    controller.down()
    yield controller
    controller.up()
    with app.connection_for_write() as conn:
        for suffix in ("", ".mail", ".nightly"):
            conn.default_channel.queue_purge(f"{controller.queue}{suffix}")
    app.conf.task_always_eager, app.conf.task_default_queue = saved[1], saved[2]
    app.conf.update(task_routes=saved[3])
    _use_broker(app, saved[0])


@pytest.fixture
def broker_down(broker) -> Broker:
    return broker


def _kept() -> list[tuple[str, list]]:
    return list(OutboxJob.objects.values_list("task_name", "args"))


def _messages(client, response) -> list[str]:
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


def _shown(client, response) -> str:
    return client.get(response["Location"]).text if response.status_code == 302 else response.text


def test_an_invitation_is_saved_kept_and_announced_when_the_broker_is_down(org, client_for, broker_down):
    client = client_for(org.admin)
    client.raise_request_exception = False

    client.get("/team/invite/")  # the page once, so that the time below is the broker's, not the first render's
    started = time.monotonic()
    response = client.post("/team/invite/", {"email": "nova@leme.com.br", "role": "csm", "language": "en"})
    print(f"invitation with the broker down: {response.status_code} in {time.monotonic() - started:.2f} s")

    invitation = Invitation.objects.get(email="nova@leme.com.br")
    assert response.status_code == 302
    assert _kept() == [("accounts.tasks.invitation_send", [invitation.pk])]
    assert "fila de tarefas" in _shown(client, response)
    assert not mail.outbox


def test_an_invitation_put_off_is_announced_once_and_not_as_sent(org, client_for, broker_down):
    client = client_for(org.admin)

    invited = client.post("/team/invite/", {"email": "nova@leme.com.br", "role": "csm", "language": "en"})
    shown_invited = _messages(client, invited)
    resent = client.post(f"/team/invitations/{Invitation.objects.get().pk}/resend/")
    shown_resent = _messages(client, resent)

    for shown in (shown_invited, shown_resent):
        assert len(shown) == 1, shown
        assert "Convite para nova@leme.com.br salvo" in shown[0]
        assert "enviado" not in shown[0]


def test_a_password_reset_is_kept_without_telling_whether_the_address_exists(org, client, broker_down):
    client.raise_request_exception = False

    known = client.post("/password/reset/", {"email": org.csm_a.email})
    unknown = client.post("/password/reset/", {"email": "ninguem@leme.com.br"})

    assert (known.status_code, unknown.status_code) == (302, 302)
    assert _kept() == [("accounts.tasks.password_reset_send", [org.csm_a.pk])]
    assert _messages(client, known) == _messages(client, unknown) == []


def test_starting_a_campaign_is_kept_and_announced_when_the_broker_is_down(org, client_for, broker_down):
    campaign = make_campaign(actor=org.leader_a)
    client = client_for(org.leader_a)
    client.raise_request_exception = False

    response = client.post(f"/surveys/{campaign.pk}/activate/")

    campaign.refresh_from_db()
    assert response.status_code == 302
    assert campaign.status == CampaignStatus.ACTIVE
    assert _kept() == [("surveys.tasks.campaign_run", [campaign.pk])]
    assert "fila de tarefas" in _shown(client, response)


def test_the_api_send_answers_its_pending_delivery_when_the_broker_is_down(org, api_for, broker_down):
    contact = ContactFactory(customer=CustomerFactory(owner=org.csm_a))
    campaign = activate(make_campaign(actor=org.leader_a, mode=CampaignMode.TRANSACTIONAL, trigger=Trigger.API))
    api = api_for(org.leader_a)
    api.raise_request_exception = False
    OutboxJob.objects.all().delete()  # the set-up's own jobs (a new customer's playbooks) are not under test

    response = api.post(f"/api/v1/survey-campaigns/{campaign.pk}/send/", {"contact": contact.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == DeliveryStatus.PENDING
    assert response["Leme-Jobs-Deferred"] == "1"
    assert _kept() == [("surveys.tasks.deliveries_send", [campaign.pk])]


def test_an_events_subscriber_job_is_kept_too(org, broker_down, monkeypatch):
    from config.celery import app

    task = type("Task", (), {"name": "tests.subscriber", "app": app})()

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    task.apply_async = refuse
    monkeypatch.setitem(events._subscribers, ContactOptedOut, [task])

    events.publish(ContactOptedOut(customer_id=1, contact_id=2))

    assert OutboxJob.objects.get().task_name == "tests.subscriber"


def test_the_outbox_keeps_a_job_while_the_broker_is_still_down(org, broker_down):
    OutboxJob.objects.create(task_name="accounts.tasks.invitation_send", args=[1])

    result = outbox.flush()

    job = OutboxJob.objects.get()
    assert (result.queued, result.failed, result.left) == (0, 1, 1)
    assert job.attempts == 1
    assert job.last_error


def test_once_the_broker_is_back_each_kept_job_is_queued_once(org, client_for, broker):
    # given an invitation and a campaign start kept while the broker was down
    client = client_for(org.admin)
    client.post("/team/invite/", {"email": "nova@leme.com.br", "role": "csm", "language": "en"})
    campaign = make_campaign(actor=org.admin)
    client.post(f"/surveys/{campaign.pk}/activate/")
    assert len(_kept()) == 2

    # when the broker is back and the beat's flush runs twice
    broker.up()
    first = outbox.flush()
    second = outbox.flush()

    # then each job waits in its queue once, and the outbox is empty
    assert (first.queued, first.failed, first.left) == (2, 0, 0)
    assert second.queued == 0
    assert broker.waiting() == 2
    assert not OutboxJob.objects.exists()


def test_with_the_broker_up_nothing_is_kept(org, broker):
    broker.up()
    campaign = make_campaign(actor=org.admin)

    assert jobs.queue(campaign_run, campaign.pk) is True
    assert broker.waiting() == 1
    assert not OutboxJob.objects.exists()


def test_a_queued_job_shows_its_arguments_cut_at_celerys_length(org, broker):
    import json

    from surveys.subscribers import notify_detractor

    broker.up()
    task = notify_detractor.task  # (event name, payload)

    assert jobs.queue(task, "surveys.events.DetractorAnswered", {"response_id": 7, "kind": "nps"}) is True
    assert jobs.queue(task, "surveys.events.DetractorAnswered", {"ids": list(range(1000))}) is True

    with broker.app.connection_for_write() as conn:
        raw = conn.default_channel.client.lrange(broker.queue, 0, -1)
    headers = sorted((json.loads(m)["headers"] for m in raw), key=lambda h: len(h["argsrepr"]))
    assert [(h["task"], h["argsrepr"], h["kwargsrepr"]) for h in headers[:1]] == [
        (task.name, "('surveys.events.DetractorAnswered', {'response_id': 7, 'kind': 'nps'})", "{}")
    ]
    cut = headers[1]["argsrepr"]
    assert len(cut) == jobs.REPR_MAX
    assert cut.startswith("('surveys.events.DetractorAnswered', {'ids': [0, 1, 2, 3")
    assert cut.endswith("...")


def test_the_outbox_flush_is_on_the_beat_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["accounts.outbox_flush"]

    assert entry["task"] == "accounts.tasks.outbox_flush"
    assert entry["schedule"] == 60
    assert 0 < entry["options"]["expires"] < 60


@pytest.mark.worker
def test_a_real_worker_sends_the_kept_invitation_once_the_beat_flushes_the_outbox(
    org, client_for, settings, smtp_server, celery_worker_process
):
    # given a worker on the real broker, and the web process unable to reach it when an admin invites someone
    from config.celery import app

    inbox, email_url = smtp_server
    celery_worker_process({"EMAIL_URL": email_url})
    real_url = app.conf.broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _use_broker(app, f"redis://127.0.0.1:{free_port()}/0")
    try:
        response = client_for(org.admin).post(
            "/team/invite/", {"email": "nova@leme.com.br", "role": "csm", "language": "en"}
        )
    finally:
        _use_broker(app, real_url)
    assert response.status_code == 302
    assert OutboxJob.objects.count() == 1

    # when the broker is back and the beat queues the outbox's flush, twice
    outbox_flush.delay()
    messages = inbox.wait_for(1, timeout=60)
    outbox_flush.delay()

    # then the invitation went out once, and the outbox is empty
    assert [m["To"] for m in messages] == ["nova@leme.com.br"]
    assert wait_until(lambda: not OutboxJob.objects.exists(), timeout=20)
    assert wait_until(lambda: Invitation.objects.filter(sent_at__isnull=False).exists(), timeout=20)
    time.sleep(2)  # a second email would have arrived by now
    assert len(inbox.messages) == 1
