"""The kinds of step a playbook has, what each one's settings mean, and the reads a step needs (who is
assigned, whether a condition still holds). Shared by the engine, the editor and the preview, so the
preview shows exactly what a run would do.

A step is a plain dict in ``PlaybookVersion.steps``:

* ``{"kind": "task", "title", "description", "assignee", "due_days"}``: a task for the person in that role,
  due ``due_days`` business days after the step starts; the run moves straight on. Optional ``due_from``
  dates it from what started the run instead (``"trigger"``: the day of the answer, the UTI's first day;
  ``"trigger_end"``: the UTI's last day), a past day included, and ``due_unit: "days"`` counts calendar days
  (weekly check-ins keep their weekday). The title and description may name fields (``playbooks.fields``);
* ``{"kind": "wait", "days"}``: the next step starts ``days`` days later (``"until": "trigger_end"``: that
  many days after the end of what started the run);
* ``{"kind": "condition", "check"}``: the run carries on while the check holds, and ends otherwise;
* ``{"kind": "email", "template", "contact_role", "subject_pt", "body_pt", "subject_en", "body_en"}``: an email
  to each contact in that role, in their language (``playbooks.emails``), sent by ``playbooks.mailing``.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from playbooks import emails
from portfolio.models import ChurnOutcome, ContactRole, Customer, Stage, SubscriptionStatus, UtiExit
from surveys.models import Response


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
    LOOP_OPEN = "loop_open", _("The detractor's loop is still open")
    PAYMENT_OVERDUE = "payment_overdue", _("Payment still overdue")


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
    if check == Check.LOOP_OPEN:
        # The answer that started the run; a run without one (started by hand) has no loop to wait for.
        response_id = facts.get("response_id")
        return bool(response_id) and Response.objects.filter(pk=response_id, loop_closed_at__isnull=True).exists()
    if check == Check.PAYMENT_OVERDUE:
        # The payment that started the run (still overdue since that day); a run without one (started by hand):
        # any payment of the customer's still overdue.
        overdue = customer.subscriptions.filter(status=SubscriptionStatus.DELINQUENT)
        if facts.get("subscription_id"):
            overdue = overdue.filter(pk=facts["subscription_id"])
            if facts.get("delinquent_since"):
                overdue = overdue.filter(delinquent_since=facts["delinquent_since"])
        return overdue.exists()
    return False


class DueFrom(TextChoices):
    STEP = "", _("the day the step starts")
    TRIGGER = "trigger", _("the day of the trigger")
    TRIGGER_END = "trigger_end", _("the last day of the trigger (the UTI month)")


def anchor_day(facts: dict, due_from: str, default: date) -> date:
    """The day a step counts from: ``default`` (the day it starts), or a day the run was started with
    (``facts["trigger_on"]``, ``facts["trigger_ends_on"]``); ``default`` when the run has none."""
    key = {DueFrom.TRIGGER: "trigger_on", DueFrom.TRIGGER_END: "trigger_ends_on"}.get(due_from)
    value = facts.get(key) if key else None
    return date.fromisoformat(value) if value else default


def wait_end(step: dict, *, now: datetime, facts: dict) -> datetime:
    """When a wait step is over: ``days`` days from ``now``, or, for ``until: "trigger_end"``, the start of the
    day ``days`` days after the trigger's last day (``now`` when that is already past)."""
    days = int(step.get("days", 0))
    if step.get("until") == DueFrom.TRIGGER_END and facts.get("trigger_ends_on"):
        day = date.fromisoformat(facts["trigger_ends_on"]) + timedelta(days=days)
        return max(now, timezone.make_aware(datetime.combine(day, time.min)))
    return now + timedelta(days=days)


def task_due(step: dict, *, today: date, facts: dict) -> date:
    """A task step's due date: ``due_days`` business days (or calendar days) after its anchor day."""
    start = anchor_day(facts, step.get("due_from", ""), today)
    days = int(step.get("due_days", 0))
    if step.get("due_unit") == "days":
        return start + timedelta(days=days)
    return add_business_days(start, days)


def describe(step: dict) -> str:
    """One line saying what a step does, in the reader's language."""
    kind = step.get("kind")
    if kind == StepKind.TASK:
        values = {
            "who": Assignee(step.get("assignee", "owner")).label,
            "title": step.get("title", ""),
            "n": step.get("due_days", 0),
        }
        if step.get("due_from"):
            values["from"] = DueFrom(step["due_from"]).label
            if step.get("due_unit") == "days":
                return _("%(who)s: “%(title)s”, due %(n)s days after %(from)s") % values
            return _("%(who)s: “%(title)s”, due %(n)s business days after %(from)s") % values
        return _("%(who)s: “%(title)s”, due in %(n)s business days") % values
    if kind == StepKind.WAIT:
        if step.get("until") == DueFrom.TRIGGER_END:
            return _("Wait until %(n)s days after the last day of the trigger") % {"n": step.get("days", 0)}
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
            due = task_due(step, today=day, facts=facts)
            planned.append(PlannedStep(index, kind, describe(step), day, assignee=person, due_date=due))
        elif kind == StepKind.WAIT:
            planned.append(PlannedStep(index, kind, describe(step), day))
            if step.get("until") == DueFrom.TRIGGER_END:
                day = max(day, anchor_day(facts, DueFrom.TRIGGER_END, day) + timedelta(days=int(step.get("days", 0))))
            else:
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
    found = []
    for contact in contacts.order_by("name"):
        _language, subject, _body = emails.content_for(step, contact.language)
        values = emails.Recipient.of(email=contact.email, contact_name=contact.name, customer=customer).values()
        found.append((contact.name, contact.email, emails.fill(subject, values)))
    return tuple(found)
