"""The demo team: a realistic Brazilian CS team, the people every other part of the demo is about.

Demo rows are recognisable: people's emails end in ``@DEMO_DOMAIN``. That is how ``seed_demo`` tells
a demo database from a real one and refuses to touch the latter unless forced.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import Role, Team, User

DEMO_DOMAIN = "demo.leme.app"
DEMO_PASSWORD = "leme-demo-2026"  # noqa: S105 - printed on purpose: it is the demo's login


@dataclass(frozen=True)
class DemoPerson:
    key: str
    full_name: str
    role: str
    team: str | None = "Time Sucesso"

    @property
    def email(self) -> str:
        return f"{self.key}@{DEMO_DOMAIN}"


PEOPLE = [
    DemoPerson("admin", "Renata Azevedo", Role.ADMIN, None),
    DemoPerson("mariana", "Mariana Costa", Role.LEADER),
    DemoPerson("lucas", "Lucas Almeida", Role.CSM),
    DemoPerson("beatriz", "Beatriz Santos", Role.CSM),
    DemoPerson("rafael", "Rafael Oliveira", Role.CSM),
    DemoPerson("camila", "Camila Ferreira", Role.CSM),
    DemoPerson("thiago", "Thiago Ribeiro", Role.CSM),
    DemoPerson("juliana", "Juliana Pereira", Role.ISM),
    DemoPerson("gustavo", "Gustavo Lima", Role.FARMER),
    DemoPerson("paula", "Paula Souza", Role.VIEWER, None),
]
TEAM_NAME = "Time Sucesso"
LEADER_KEY = "mariana"


def non_demo_people() -> int:
    return User.objects.exclude(email__iendswith=f"@{DEMO_DOMAIN}").count()


@transaction.atomic
def seed_people(progress: Callable[[str], None] | None = None, **options) -> list[str]:
    """The team: idempotent, matching people by email; passwords are set only when a person is created."""
    team, _ = Team.objects.get_or_create(name=TEAM_NAME)
    created = 0
    password = ""
    for person in PEOPLE:
        user = User.objects.filter(email=person.email).first()
        if user is None:
            # Everyone shares the demo's (printed) password: hash it once, not once per person (a second each).
            password = password or make_password(DEMO_PASSWORD)
            user = User.objects.create_user(
                person.email,
                None,
                full_name=person.full_name,
                role=person.role,
                is_staff=person.role == Role.ADMIN,
                is_superuser=person.role == Role.ADMIN,
            )
            user.password = password
            created += 1
        user.team = team if person.team else None
        user.save(update_fields=["team", "password"])
    leader = User.objects.get(email=f"{LEADER_KEY}@{DEMO_DOMAIN}")
    if team.leader_id != leader.pk:
        team.leader = leader
        team.save(update_fields=["leader"])
    if progress:
        progress(f"people… {len(PEOPLE)} users, {created} new")
    return [f"people: {created} created, {len(PEOPLE) - created} already there"]


def demo_user(key: str) -> User:
    return User.objects.get(email=f"{key}@{DEMO_DOMAIN}")
