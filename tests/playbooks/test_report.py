"""The "did it help?" report on a playbook's page: runs started, completed and exited (and why), the tasks its
runs created (done, on time, open, cancelled), the emails sent, bounced, held and unsubscribed from, the
outcome of a risk play, all on the customers the reader sees (the door) and in a fixed number of queries."""

import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from core import clock
from playbooks.engine import origin_key
from playbooks.models import EmailOptOut, EmailStatus, Run, RunStatus, RunStep, StepEmail, StepOutcome
from playbooks.selectors import playbook_report
from portfolio import services as portfolio_services
from portfolio.models import Customer, Stage, TaskStatus
from tests.playbooks.factories import email_step, live_playbook, task_step
from tests.portfolio.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


def _at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _run(playbook, customer, *, status=RunStatus.ACTIVE, reason="", started=TODAY - timedelta(days=10), hour=12) -> Run:
    ended = status not in (RunStatus.ACTIVE, RunStatus.PAUSED)
    return Run.objects.create(
        playbook=playbook,
        version=playbook.live_version,
        customer=customer,
        status=status,
        started_at=_at(started, hour),
        ended_at=_at(started + timedelta(days=5)) if ended else None,
        exit_reason=reason,
    )


def _task(run: Run, index: int, *, due: date, status=TaskStatus.OPEN, completed: date | None = None):
    """A task the run's step ``index`` created, linked as the engine links it, then done or cancelled."""
    task = portfolio_services.task_create(
        customer=run.customer,
        owner=run.customer.owner,
        title=f"Passo {index}",
        due_date=due,
        origin="playbook",
        origin_key=origin_key(run.pk, index),
    )
    task.status = status
    task.completed_at = _at(completed, 23) if completed else None
    task.save(update_fields=["status", "completed_at"])
    RunStep.objects.create(run=run, index=index, kind="task", outcome=StepOutcome.TASK_CREATED, task=task)
    return task


def _email(run: Run, index: int, status=EmailStatus.SENT, *, opted_out=False) -> None:
    """An email step of the run and its one email, sent (or bounced, held…); ``opted_out``: its contact
    unsubscribed from playbook emails through it."""
    RunStep.objects.create(run=run, index=index, kind="email", outcome=StepOutcome.EMAIL_QUEUED)
    contact = ContactFactory(customer=run.customer)
    email = StepEmail.objects.create(
        run=run,
        index=index,
        contact=contact,
        email=contact.email,
        language="pt-br",
        status=status,
        next_attempt_at=run.started_at,
        sent_at=run.started_at if status == EmailStatus.SENT else None,
    )
    if opted_out:
        EmailOptOut.objects.create(contact=contact, via=email)


@pytest.fixture
def history(org):
    """Team A: one run completed (2 tasks done on time, an email sent whose contact then unsubscribed), one
    exited on its goal (1 task
    cancelled), one active (1 task open and overdue, 1 done late). Team B: one exited run, not team A's."""
    playbook = live_playbook(steps=[task_step(), task_step(), email_step()])
    completed = _run(playbook, CustomerFactory(owner=org.csm_a), status=RunStatus.COMPLETED, reason="all steps done")
    _task(completed, 0, due=TODAY - timedelta(days=8), status=TaskStatus.DONE, completed=TODAY - timedelta(days=8))
    _task(completed, 1, due=TODAY - timedelta(days=6), status=TaskStatus.DONE, completed=TODAY - timedelta(days=7))
    _email(completed, 2, opted_out=True)
    exited = _run(playbook, CustomerFactory(owner=org.csm_a2), status=RunStatus.EXITED, reason="exit goal reached")
    _task(exited, 0, due=TODAY - timedelta(days=2), status=TaskStatus.CANCELLED)
    active = _run(playbook, CustomerFactory(owner=org.csm_a))
    _task(active, 0, due=TODAY - timedelta(days=9), status=TaskStatus.DONE, completed=TODAY - timedelta(days=7))
    _task(active, 1, due=TODAY - timedelta(days=1))
    theirs = _run(playbook, CustomerFactory(owner=org.csm_b), status=RunStatus.EXITED, reason="the customer churned")
    _task(theirs, 0, due=TODAY - timedelta(days=8), status=TaskStatus.DONE, completed=TODAY - timedelta(days=8))
    _email(theirs, 2, EmailStatus.BOUNCED)
    return playbook


def test_the_report_counts_runs_tasks_and_emails_of_the_readers_customers(org, client_for, history):
    with clock.at(_at(TODAY)):
        page = client_for(org.leader_a).get(reverse("playbooks:detail", args=[history.pk]))
    assert page.status_code == 200
    report = page.context["page"].report
    assert (report.started, report.completed, report.exited, report.open) == (3, 1, 1, 1)
    assert report.exit_reasons == [("exit goal reached", 1)]
    assert report.tasks == 5
    assert (report.tasks_done, report.tasks_done_on_time) == (3, 2)
    assert (report.tasks_open, report.tasks_open_overdue, report.tasks_cancelled) == (1, 1, 1)
    assert (report.emails_sent, report.emails_bounced, report.emails_unsubscribed, report.emails_held) == (1, 0, 1, 0)
    assert report.outcome is None  # a manual play: no risk outcome
    html = page.content.decode()
    assert 'id="report"' in html
    assert "exit goal reached" in html
    assert "the customer churned" not in html  # team B's run


def test_the_door_another_teams_run_counts_only_for_its_team_and_the_admin(org, history):
    with clock.at(_at(TODAY)):
        theirs = playbook_report(org.leader_b, history)
        everyone = playbook_report(org.admin, history)
    assert (theirs.started, theirs.exited, theirs.tasks_done) == (1, 1, 1)
    assert (theirs.emails_sent, theirs.emails_bounced) == (0, 1)
    assert theirs.exit_reasons == [("the customer churned", 1)]
    assert (everyone.started, everyone.exited, everyone.tasks) == (4, 2, 6)
    assert (everyone.emails_sent, everyone.emails_bounced, everyone.emails_unsubscribed) == (1, 1, 1)


def test_the_report_reads_in_a_fixed_number_of_queries(org, history, django_assert_num_queries):
    with clock.at(_at(TODAY)), django_assert_num_queries(4):
        small = playbook_report(org.leader_a, history)
    for n in range(5):
        run = _run(history, CustomerFactory(owner=org.csm_a), status=RunStatus.EXITED, reason=f"motivo {n}")
        _task(run, 0, due=TODAY, status=TaskStatus.CANCELLED)
        _email(run, 2, EmailStatus.HELD, opted_out=True)
    with clock.at(_at(TODAY)), django_assert_num_queries(4):
        bigger = playbook_report(org.leader_a, history)
    assert (small.started, bigger.started) == (3, 8)
    assert len(bigger.exit_reasons) == 6
    assert (bigger.emails_held, bigger.emails_unsubscribed) == (5, 6)


def _risk_history(org, *, old_runs: int, green: int, churned: int, today: date = TODAY):
    playbook = live_playbook(
        team=org.team_a, trigger_kind="health_band_changed", trigger_params={"band": "red"}, steps=[task_step()]
    )
    for n in range(old_runs):
        customer = CustomerFactory(owner=org.csm_a)
        band = "green" if n < green else "red"
        stage = Stage.CHURNED if n >= old_runs - churned else Stage.ONGOING
        Customer.objects.filter(pk=customer.pk).update(health_band=band, stage=stage)
        _run(playbook, customer, status=RunStatus.COMPLETED, started=today - timedelta(days=30 + n), hour=0)
    # started 29 days ago: too recent to count, whatever its customer's band
    recent = CustomerFactory(owner=org.csm_a)
    Customer.objects.filter(pk=recent.pk).update(health_band="green")
    _run(playbook, recent, started=today - timedelta(days=29), hour=0)
    # another team's old run: not the reader's
    _run(playbook, CustomerFactory(owner=org.csm_b), status=RunStatus.COMPLETED, started=today - timedelta(days=60))
    return playbook


def test_a_risk_play_with_too_few_old_runs_says_so_instead_of_a_percentage(org, client_for):
    playbook = _risk_history(org, old_runs=3, green=2, churned=1)
    with clock.at(_at(TODAY)):
        page = client_for(org.leader_a).get(reverse("playbooks:detail", args=[playbook.pk]))
    outcome = page.context["page"].report.outcome
    assert (outcome.runs, outcome.green_now.count, outcome.not_churned.count, outcome.enough) == (3, 2, 2, False)
    html = page.content.decode()
    assert "Poucas execuções para concluir." in html
    assert "%" not in html.split('id="report-outcome"')[1].split("</div>")[0]


def test_a_risk_play_with_enough_old_runs_shows_the_shares_with_their_counts(org, client_for):
    playbook = _risk_history(org, old_runs=10, green=4, churned=1)
    with clock.at(_at(TODAY)):
        page = client_for(org.leader_a).get(reverse("playbooks:detail", args=[playbook.pk]))
    outcome = page.context["page"].report.outcome
    assert (outcome.runs, outcome.enough) == (10, True)
    assert (outcome.green_now.count, outcome.green_now.percent) == (4, 40)
    assert (outcome.not_churned.count, outcome.not_churned.percent) == (9, 90)
    html = page.content.decode()
    assert "40% (4 de 10 execuções)" in html
    assert "90% (9 de 10 execuções)" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 375])
def test_a_leader_reads_the_report_on_a_desktop_and_a_phone(browser, live_server, login_page, org, width):
    from playwright.sync_api import expect

    from playbooks.models import Playbook

    Playbook.objects.filter(key__isnull=False).delete()
    today = timezone.localdate()
    playbook = _risk_history(org, old_runs=10, green=4, churned=1, today=today)
    run = playbook.runs.filter(customer__owner=org.csm_a).first()
    _task(run, 0, due=today - timedelta(days=3), status=TaskStatus.DONE, completed=today - timedelta(days=4))
    _email(run, 1)
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    login_page(page, org.leader_a)
    page.goto(f"{live_server.url}{reverse('playbooks:detail', args=[playbook.pk])}")
    report = page.locator("#report")
    expect(report.get_by_role("heading", name="Ajudou?")).to_be_visible()
    expect(report).to_contain_text("40% (4 de 10 execuções)")
    expect(report.locator("#report-emails")).to_contain_text("Enviados")
    report.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shots = Path(tempfile.gettempdir()) / "shots" / "report"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"report-{width}.png"), full_page=True)
    context.close()
