import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Role, Team, User
from config.celery import app as celery_app
from demo.people import DEMO_PASSWORD, PEOPLE
from portfolio.models import Customer, Task
from tests.factories import UserFactory


@pytest.mark.django_db
def test_seed_builds_the_team_and_is_idempotent(capsys):
    call_command("seed_demo", customers=0, health_history=False)
    first = capsys.readouterr().out
    counts = (User.objects.count(), Team.objects.count())
    call_command("seed_demo", customers=0, health_history=False)
    assert (User.objects.count(), Team.objects.count()) == counts == (len(PEOPLE), 1)
    team = Team.objects.get()
    assert team.leader.role == Role.LEADER
    assert team.members.filter(role=Role.CSM).count() == 5
    assert {Role.ISM, Role.FARMER, Role.ADMIN, Role.VIEWER} <= set(User.objects.values_list("role", flat=True))
    assert "lucas@demo.leme.app" in first
    assert DEMO_PASSWORD in first
    assert User.objects.get(email="lucas@demo.leme.app").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_seed_refuses_a_database_with_real_people():
    UserFactory(email="pessoa@empresa-real.com.br")
    with pytest.raises(CommandError, match="not part of the demo"):
        call_command("seed_demo", customers=0, health_history=False)
    assert not User.objects.filter(email__endswith="@demo.leme.app").exists()
    call_command("seed_demo", customers=0, force=True, health_history=False)
    assert User.objects.filter(email__endswith="@demo.leme.app").count() == len(PEOPLE)


@pytest.mark.django_db(transaction=True)
def test_seed_says_how_far_it_got_at_each_stage(capsys):
    call_command("seed_demo", customers=30, health_history=False)

    out = capsys.readouterr().out
    progress = [line for line in out.splitlines() if re.search(r"… .*\(\d+ s\)$", line)]
    assert re.fullmatch(rf"people… {len(PEOPLE)} users, {len(PEOPLE)} new \(\d+ s\)", progress[0])
    assert progress[1].startswith("portfolio… 30 customers to create, 0 already there (")
    assert [line.split(" (")[0] for line in progress[2:4]] == [
        "portfolio 25/30 customers…",
        "portfolio 30/30 customers…",
    ]
    assert any(line.startswith("surveys… NPS de relacionamento") for line in progress)
    assert any(re.match(r"surveys… \d+ detractor follow-up tasks", line) for line in progress)
    assert re.match(r"tallies… \d+ \+ \d+ rows \(\d+ s\)$", progress[-4])
    assert progress[-3].startswith("metrics… building the monthly figures from the MRR ledger (")
    assert progress[-2].startswith("metrics… counting the CS operations' closed months (")
    # the replay's many versions of each customer row compacted (PostgreSQL, outside any transaction)
    assert progress[-1].startswith("compacting… portfolio_customer (")
    assert "  compacted: portfolio_customer" in out
    with connection.cursor() as cursor:  # every page of the compacted table all-visible: index-only scans skip it
        cursor.execute("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'portfolio_customer'")
        pages, all_visible = cursor.fetchone()
    assert all_visible == pages > 0
    # the stages' summaries and the logins follow
    assert "  customers: 30 created (30 through the services, 0 in bulk)" in out
    assert re.search(r"^  metrics: [1-9]\d* period rollups built$", out, re.M)
    assert re.search(r"^  metrics: [1-9]\d* CS operations tally rows$", out, re.M)
    assert "lucas@demo.leme.app" in out


@pytest.mark.django_db
@pytest.mark.parametrize("quiet", [{"quiet": True}, {"verbosity": 0}])
def test_seed_quiet_prints_nothing(capsys, quiet):
    call_command("seed_demo", customers=0, health_history=False, **quiet)

    assert capsys.readouterr().out == ""
    assert User.objects.filter(email__endswith="@demo.leme.app").count() == len(PEOPLE)


@pytest.mark.django_db(transaction=True)
def test_seed_replays_subscribers_in_process_even_with_a_broker(capsys):
    # given tasks that would go to a worker
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        # when
        call_command("seed_demo", customers=3, quiet=True, health_history=False)
        # then the subscribers acted during the replay (the scripted UTI customer has its check-ins) and
        # tasks go to the broker again afterwards
        assert celery_app.conf.task_always_eager is False
    finally:
        celery_app.conf.task_always_eager = eager
    uti = Customer.objects.get(external_id="demo-00001")
    assert Task.objects.filter(customer=uti, origin="playbook", title__contains="acompanhamento").exists()
    # the "Churn request" playbook gave the scripted churn request its task
    assert Task.objects.filter(
        customer__external_id="demo-00000", origin="playbook", title__startswith="Trabalhar o pedido de churn"
    ).exists()
