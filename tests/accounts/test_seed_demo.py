import pytest
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_PASSWORD, PEOPLE
from accounts.models import Role, Team, User
from tests.factories import UserFactory


@pytest.mark.django_db
def test_seed_builds_the_team_and_is_idempotent(capsys):
    call_command("seed_demo", customers=0)
    first = capsys.readouterr().out
    counts = (User.objects.count(), Team.objects.count())
    call_command("seed_demo", customers=0)
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
        call_command("seed_demo", customers=0)
    assert not User.objects.filter(email__endswith="@demo.leme.app").exists()
    call_command("seed_demo", customers=0, force=True)
    assert User.objects.filter(email__endswith="@demo.leme.app").count() == len(PEOPLE)
