"""The kinds of step a playbook has, what each one's settings mean, and the reads a step needs (who is
assigned, whether a condition still holds). Shared by the engine, the editor and the preview, so the
preview shows exactly what a run would do.

A step is a plain dict in ``PlaybookVersion.steps``:

* ``{"kind": "task", "title", "description", "assignee", "due_days"}``: a task for the person in that role,
  due ``due_days`` business days after the step starts; the run moves straight on;
* ``{"kind": "wait", "days"}``: the next step starts ``days`` days later;
* ``{"kind": "condition", "check"}``: the run carries on while the check holds, and ends otherwise;
* ``{"kind": "email", "template", "contact_role", "subject_pt", "body_pt", "subject_en", "body_en"}``: an email
  to each contact in that role, in their language (``playbooks.emails``), sent by ``playbooks.mailing``.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from playbooks import emails
from portfolio.models import ChurnOutcome, ContactRole, Customer, Stage, UtiExit


class StepKind(TextChoices):
    TASK = "task", _("Task")
    WAIT = "wait", _("Wait")
    CONDITION = "condition", _("Condition")
    EMAIL = "email", _("Email")


class Assignee(TextChoices):
    OWNER = "owner", _("Owner CSM")
    ISM = "ism", _("Implementation manager (ISM)")
    FARMER = "farmer", _("Farmer")
    LEADER = "leader", _("Team leader")


class Check(TextChoices):
    STILL_RED = "still_red", _("Health still red")
    NO_TOUCH = "no_touch", _("No touch logged since the run started")
    CHURN_OPEN = "churn_open", _("Churn request still open")
    IN_UTI = "in_uti", _("Still in UTI")
    ONBOARDING = "onboarding", _("Still in onboarding")


class Band(TextChoices):
    RED = "red", _("Red")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


def add_business_days(start: date, days: int) -> date:
    """``days`` working days (Monday to Friday) after ``start``; zero is ``start`` itself."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def assignee_for(customer: Customer, role: str) -> User | None:
    """The person a task step goes to. The owner CSM falls back to the ISM while there is no CSM, and the team
    leader is the leader of the owner's team (or of the ISM's, before the handoff)."""
    if role == Assignee.ISM:
        return customer.implementation_manager
    if role == Assignee.FARMER:
        return customer.farmer
    if role == Assignee.LEADER:
        person = customer.owner or customer.implementation_manager
        team = person.team if person is not None else None
        return team.leader if team is not None else None
    return customer.owner or customer.implementation_manager


def check_holds(check: str, *, customer: Customer, started_at: datetime, facts: dict) -> bool:
    """Whether a condition step's check still holds for ``customer`` in a run started at ``started_at``."""
    if check == Check.STILL_RED:
        return (customer.health_band or facts.get("band")) == "red"
    if check == Check.NO_TOUCH:
        return customer.last_touch_at is None or customer.last_touch_at < started_at
    if check == Check.CHURN_OPEN:
        return customer.churn_requests.filter(outcome=ChurnOutcome.OPEN).exists()
    if check == Check.IN_UTI:
        return customer.uti_stays.filter(exit=UtiExit.OPEN).exists()
    if check == Check.ONBOARDING:
        return customer.stage == Stage.ONBOARDING
    return False


def describe(step: dict) -> str:
    """One line saying what a step does, in the reader's language."""
    kind = step.get("kind")
    if kind == StepKind.TASK:
        return _("%(who)s: “%(title)s”, due in %(n)s business days") % {
            "who": Assignee(step.get("assignee", "owner")).label,
            "title": step.get("title", ""),
            "n": step.get("due_days", 0),
        }
    if kind == StepKind.WAIT:
        return _("Wait %(n)s days") % {"n": step.get("days", 0)}
    if kind == StepKind.CONDITION:
        return _("Carry on only while: %(check)s") % {"check": Check(step.get("check")).label.lower()}
    if kind == StepKind.EMAIL:
        return _("Email “%(template)s” to the %(role)s") % {
            "template": step.get("template", ""),
            "role": ContactRole(step.get("contact_role", ContactRole.USER)).label.lower(),
        }
    return str(kind)


@dataclass(frozen=True)
class PlannedStep:
    """What a step would do on a customer, for the preview: no row is written to find it out."""

    index: int
    kind: str
    text: str
    starts_on: date
    assignee: User | None = None
    due_date: date | None = None
    ends_run: bool = False
    # An email step: (contact name, address, the subject they would get), or nobody.
    recipients: tuple[tuple[str, str, str], ...] = ()


def plan(steps: list[dict], *, customer: Customer, today: date, facts: dict, started_at: datetime) -> list[PlannedStep]:
    """Walk ``steps`` from ``today`` as a run would, assuming each wait passes and each condition reads as it
    does now; stops at the first condition that would end the run."""
    planned: list[PlannedStep] = []
    day = today
    for index, step in enumerate(steps):
        kind = step.get("kind")
        if kind == StepKind.TASK:
            person = assignee_for(customer, step.get("assignee", "owner"))
            due = add_business_days(day, int(step.get("due_days", 0)))
            planned.append(PlannedStep(index, kind, describe(step), day, assignee=person, due_date=due))
        elif kind == StepKind.WAIT:
            planned.append(PlannedStep(index, kind, describe(step), day))
            day += timedelta(days=int(step.get("days", 0)))
        elif kind == StepKind.CONDITION:
            holds = check_holds(step.get("check", ""), customer=customer, started_at=started_at, facts=facts)
            planned.append(PlannedStep(index, kind, describe(step), day, ends_run=not holds))
            if not holds:
                break
        else:
            planned.append(PlannedStep(index, kind, describe(step), day, recipients=_email_recipients(step, customer)))
    return planned


def _email_recipients(step: dict, customer: Customer) -> tuple[tuple[str, str, str], ...]:
    """Who an email step would write to on ``customer``, with the subject each would get in their language."""
    contacts = customer.contacts.filter(
        role=step.get("contact_role", ContactRole.USER), archived_at__isnull=True
    ).exclude(email="")
    owner = customer.owner
    found = []
    for contact in contacts.order_by("name"):
        _language, subject, _body = emails.content_for(step, contact.language)
        values = emails.Recipient(
            email=contact.email,
            contact_name=contact.name,
            customer_name=customer.name,
            csm_name=(owner.full_name or owner.email) if owner else "",
            csm_email=owner.email if owner else "",
        ).values()
        found.append((contact.name, contact.email, emails.fill(subject, values)))
    return tuple(found)
