"""The morning digest: due at 8:00 where each person is, once per person and day however often the job runs,
what My day shows in the person's language, nothing when there is nothing to say, and a one-click unsubscribe."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from email.message import Message

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from accounts import services as account_services
from accounts.emails import digest_unsubscribe_url
from portfolio import digest, services
from portfolio.models import MorningDigest, Stage
from tests.factories import UserFactory
from tests.portfolio.factories import CustomerFactory
from tests.portfolio.test_services import ongoing_customer, open_churn

pytestmark = pytest.mark.django_db


def utc_on(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def the_day() -> date:
    """A calendar day the tests place their moments in (UTC), with tasks dated around it."""
    return timezone.now().astimezone(UTC).date()


def task_for(person, *, customer_name: str, title: str, due: date):
    customer = CustomerFactory(owner=person, name=customer_name)
    return services.task_create(customer=customer, owner=person, title=title, due_date=due)


def run_the_beat(now: datetime) -> list[tuple[int, date]]:
    """What the beat's job does, at ``now``: every digest due, each sent (the task's body, in this process)."""
    due = digest.digests_due(now=now)
    for user_id, day in due:
        digest.digest_send(user_id=user_id, day=day)
    return due


def sent_to(person) -> list:
    return [m for m in mail.outbox if m.to == [person.email]]


def test_the_digest_goes_once_per_person_and_day_at_8_where_each_person_is(org):
    # given a CSM in São Paulo (UTC−3) and one in Lisbon (UTC+0 or +1), each with an overdue task
    day = the_day()
    lisbon = UserFactory(team=org.team_a, full_name="Rita Lopes", time_zone="Europe/Lisbon")
    task_for(
        org.csm_a, customer_name="Padaria Pão Quente", title="Ligar para o financeiro", due=day - timedelta(days=2)
    )
    task_for(lisbon, customer_name="Lisboa Têxtil", title="Rever o contrato", due=day - timedelta(days=1))

    # when the beat runs at 06:00 São Paulo time (09:00 or 10:00 in Lisbon), twice
    first = run_the_beat(utc_on(day, 9))
    again = run_the_beat(utc_on(day, 9))

    # then only Lisbon's 8:00 has come: Rita gets hers, once; nobody in São Paulo yet
    assert (lisbon.pk, day) in first
    assert [pk for pk, _ in again] == []
    assert len(sent_to(lisbon)) == 1
    assert sent_to(org.csm_a) == []

    # when the beat runs at 08:15 in São Paulo, twice, and the task once more by hand
    run_the_beat(utc_on(day, 11, 15))
    run_the_beat(utc_on(day, 11, 15))
    resent = digest.digest_send(user_id=org.csm_a.pk, day=day)

    # then São Paulo's CSM got hers once, Lisbon nothing more; one row per person and day
    assert resent is False
    assert len(sent_to(org.csm_a)) == 1
    assert len(sent_to(lisbon)) == 1
    assert MorningDigest.objects.filter(user__in=[org.csm_a, lisbon], day=day).count() == 2


def test_after_noon_a_missed_morning_digest_is_dropped_and_before_8_nothing_is_due(org):
    day = the_day()
    task_for(org.csm_a, customer_name="Mercado Central", title="Retornar a ligação", due=day - timedelta(days=1))

    before_eight = digest.digests_due(now=utc_on(day, 10, 59))  # 07:59 in São Paulo
    afternoon = digest.digests_due(now=utc_on(day, 15, 0))  # 12:00 in São Paulo

    assert org.csm_a.pk not in [pk for pk, _ in before_eight]
    assert org.csm_a.pk not in [pk for pk, _ in afternoon]


def test_nothing_is_sent_when_there_is_nothing_to_say_and_the_day_is_done(org):
    # given a CSM with nothing due
    day = the_day()

    # when
    run_the_beat(utc_on(day, 11, 15))
    run_the_beat(utc_on(day, 11, 30))

    # then no email, and the day is marked so the beat does not look again
    assert sent_to(org.csm_a) == []
    assert MorningDigest.objects.get(user=org.csm_a, day=day).items == 0
    assert org.csm_a.pk not in [pk for pk, _ in digest.digests_due(now=utc_on(day, 11, 45))]


def test_on_by_default_for_csms_off_for_viewers_and_each_may_choose(org):
    day = the_day()
    now = utc_on(day, 11, 15)
    due = [pk for pk, _ in digest.digests_due(now=now)]
    assert org.csm_a.pk in due
    assert org.ism_a.pk in due
    assert org.viewer_a.pk not in due
    assert org.admin.pk not in due

    # when the viewer turns it on and the CSM turns it off
    account_services.user_set_day(user=org.viewer_a, time_zone="America/Sao_Paulo", morning_digest=True)
    account_services.user_set_day(user=org.csm_a, time_zone="America/Sao_Paulo", morning_digest=False)

    due = [pk for pk, _ in digest.digests_due(now=now)]
    assert org.viewer_a.pk in due
    assert org.csm_a.pk not in due
    assert digest.digest_send(user_id=org.csm_a.pk, day=day) is False


def header_values(message: Message) -> dict[str, str]:
    return {key: " ".join(str(value).split()) for key, value in message.items()}


def parts(message: Message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode(part.get_content_charset())
        for part in message.walk()
        if not part.is_multipart()
    }


def test_the_email_through_a_real_smtp_server_in_each_language(org, smtp_server):
    # given a Portuguese-speaking CSM and an English-speaking one, each with an overdue task and one for today
    inbox, _url = smtp_server
    day = the_day()
    english = UserFactory(team=org.team_a, full_name="John Miller", language="en")
    for person, name in ((org.csm_a, "Padaria Pão Quente"), (english, "Acme Brasil")):
        task_for(person, customer_name=name, title="Ligar para o financeiro", due=day - timedelta(days=3))
        task_for(person, customer_name=f"{name} Filial", title="Enviar a proposta", due=day)

    # when
    run_the_beat(utc_on(day, 11, 15))

    # then each got one email, in their language, with both parts, and the one-click unsubscribe headers
    received = {m["To"]: m for m in inbox.wait_for(2)}
    portuguese, in_english = received[org.csm_a.email], received[english.email]
    for message, person in ((portuguese, org.csm_a), (in_english, english)):
        headers = header_values(message)
        assert headers["List-Unsubscribe"] == f"<{digest_unsubscribe_url(person)}>"
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["Auto-Submitted"] == "auto-generated"
        assert headers["Message-ID"].startswith(f"<digest.{person.pk}.{day.isoformat()}@")
        assert message.get_content_type() == "multipart/alternative"
    pt_parts, en_parts = parts(portuguese), parts(in_english)
    assert portuguese["Subject"] == "Seu dia no Leme: 2 para ver"
    assert in_english["Subject"] == "Your day at Leme: 2 to look at"
    assert "1 tarefa atrasada" in pt_parts["text/plain"]
    assert "1 tarefa para hoje" in pt_parts["text/plain"]
    assert "Padaria Pão Quente: Ligar para o financeiro" in pt_parts["text/plain"]
    assert "Padaria Pão Quente</a>: Ligar para o financeiro" in pt_parts["text/html"]
    assert "1 overdue task" in en_parts["text/plain"]
    assert "1 task for today" in en_parts["text/plain"]
    assert "http://testserver/customers/" in en_parts["text/html"]
    assert digest_unsubscribe_url(english) in en_parts["text/plain"]


def test_the_digest_tells_what_my_day_tells_churn_requests_and_stage_changes(org):
    # given a customer handed off today (its stage changed: ongoing) whose churn request was opened since
    day = timezone.localdate()
    customer = ongoing_customer(org)
    open_churn(customer, org.csm_a)

    # when
    content = digest.digest_build(org.csm_a, day)
    message = digest.digest_message(content)

    # then the churn request and the stage change are there (and the task the churn request created)
    text = message.body
    assert [r.customer_id for r in content.my_day["churn_requests"]] == [customer.pk]
    assert f"{customer.name}: " in text
    assert "Pedidos de churn em aberto" in text
    assert [c.pk for c in content.changed] == [customer.pk]
    # the stage change reads from → to, in the person's language, in both parts
    with translation.override("pt-br"):
        moved = f"{customer.name}: {Stage.ONBOARDING.label} → {Stage.ONGOING.label}"
    assert moved in text
    html = next(body for body, kind in message.alternatives if kind == "text/html")
    with translation.override("pt-br"):
        assert f"</a>: {Stage.ONBOARDING.label} &rarr; {Stage.ONGOING.label}</li>" in html
    assert content.items == content.my_day["task_count"] + 1 + content.renewal_count + 1 + content.panel_items


# --- One click to stop it ---------------------------------------------------------------------------------


def test_one_click_unsubscribe_from_the_mail_client_and_from_the_page(org):
    url = digest_unsubscribe_url(org.csm_a).removeprefix("http://testserver")
    mail_client = Client(enforce_csrf_checks=True)  # no session, no CSRF token: RFC 8058's POST

    # a GET (a person, or a scanner following links) only asks
    asked = mail_client.get(url)
    org.csm_a.refresh_from_db()
    assert asked.status_code == 200
    assert org.csm_a.wants_digest is True

    # the one-click POST turns it off
    done = mail_client.post(url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    org.csm_a.refresh_from_db()
    assert done.status_code == 200
    assert org.csm_a.morning_digest is False
    assert org.csm_a.pk not in [pk for pk, _ in digest.digests_due(now=utc_on(the_day(), 11, 15))]

    # again: still off, still fine
    assert mail_client.post(url).status_code == 200


def test_a_link_not_made_by_leme_unsubscribes_nobody(org):
    tampered = (
        digest_unsubscribe_url(org.csm_a).removeprefix("http://testserver").replace("/unsubscribe/", "/unsubscribe/x")
    )

    assert Client().get(tampered).status_code == 404
    assert Client().post(tampered).status_code == 404
    org.csm_a.refresh_from_db()
    assert org.csm_a.morning_digest is None


def test_the_profile_sets_the_time_zone_and_the_digest(org, client_for):
    client = client_for(org.viewer_a)
    page = client.get("/profile/")
    assert page.status_code == 200
    assert 'name="morning_digest"' in page.text

    saved = client.post(
        "/profile/",
        {
            "full_name": org.viewer_a.full_name,
            "language": "pt-br",
            "time_zone": "America/Manaus",
            "morning_digest": "on",
        },
    )
    wrong = client.post(
        "/profile/", {"full_name": org.viewer_a.full_name, "language": "pt-br", "time_zone": "Mars/Olympus"}
    )

    org.viewer_a.refresh_from_db()
    assert saved.status_code == 302
    assert (org.viewer_a.time_zone, org.viewer_a.morning_digest) == ("America/Manaus", True)
    assert wrong.status_code == 422


# --- Concurrently ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_digest(org, monkeypatch):
    # given a CSM with an overdue task, and a send that holds the first run inside its transaction until the
    # second run has started
    day = the_day()
    task_for(org.csm_a, customer_name="Padaria Pão Quente", title="Ligar", due=day - timedelta(days=1))
    first_inside, second_started = threading.Event(), threading.Event()
    real_message = digest.digest_message

    def held(content):
        message = real_message(content)
        real_send = message.send

        def send(*args, **kwargs):
            first_inside.set()
            second_started.wait(10)
            return real_send(*args, **kwargs)

        message.send = send
        return message

    monkeypatch.setattr(digest, "digest_message", held)
    results = []

    def run():
        try:
            results.append(digest.digest_send(user_id=org.csm_a.pk, day=day))
        finally:
            connection.close()

    # when two runs go at once
    first = threading.Thread(target=run)
    first.start()
    assert first_inside.wait(10)
    second = threading.Thread(target=run)
    second.start()
    second_started.set()
    first.join(20)
    second.join(20)

    # then one email, one row
    assert sorted(results) == [False, True]
    assert len(sent_to(org.csm_a)) == 1
    assert MorningDigest.objects.filter(user=org.csm_a, day=day).count() == 1


def test_the_beat_queues_one_send_per_due_person(org, monkeypatch):
    from portfolio import tasks

    day = the_day()
    monkeypatch.setattr(digest, "digests_due", lambda: [(org.csm_a.pk, day)])
    queued = []
    monkeypatch.setattr(tasks.digest_send, "delay", lambda *args: queued.append(args))

    assert tasks.digests_send_due() == 1
    assert queued == [(org.csm_a.pk, day.isoformat())]
