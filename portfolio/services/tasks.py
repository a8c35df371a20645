"""Tasks: work for one person about one customer. Automatic ones are idempotent by ``origin_key``."""

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.access import can_give_task, can_manage_task, ensure_can_write
from accounts.models import User
from core import clock
from portfolio.models import (
    Customer,
    Task,
    TaskStatus,
)
from portfolio.selectors.scope import customers_visible_to


def task_create(
    *,
    customer: Customer,
    owner: User,
    title: str,
    due_date: date,
    origin: str = "manual",
    origin_key: str | None = None,
    notes: str = "",
    created_by: User | None = None,
) -> Task:
    """Create a task. With an ``origin_key`` it is idempotent: the same event yields the same task."""
    ensure_can_write(created_by)
    if origin_key:
        existing = Task.objects.filter(origin_key=origin_key).first()
        if existing:
            return existing
    try:
        with transaction.atomic():
            return Task.objects.create(
                customer=customer,
                owner=owner,
                title=title[:200],
                due_date=due_date,
                origin=origin,
                origin_key=origin_key,
                notes=notes,
                created_by=created_by,
            )
    except IntegrityError:
        if origin_key:
            return Task.objects.get(origin_key=origin_key)
        raise


def task_complete(*, task: Task, actor: User) -> Task:
    ensure_can_write(actor)
    if task.status == TaskStatus.OPEN:
        task.status = TaskStatus.DONE
        task.completed_at = clock.now()
        task.save(update_fields=["status", "completed_at"])
    return task


@transaction.atomic
def tasks_cancel(*, origin_key_prefix: str, note: str, actor: User | None = None) -> int:
    """Cancel the open automatic tasks whose ``origin_key`` starts with ``origin_key_prefix`` (the tasks one
    run of a play created), adding ``note`` to each so its owner reads why it went away. Returns how many."""
    ensure_can_write(actor)
    if not origin_key_prefix:
        return 0
    tasks = list(
        Task.objects.select_for_update().filter(origin_key__startswith=origin_key_prefix, status=TaskStatus.OPEN)
    )
    now = clock.now()
    for task in tasks:
        task.status = TaskStatus.CANCELLED
        task.completed_at = now
        task.notes = f"{task.notes}\n\n{note}".strip()
        task.save(update_fields=["status", "completed_at", "notes"])
    return len(tasks)


@transaction.atomic
def tasks_complete(*, origin_key_prefix: str, actor: User | None = None) -> int:
    """Mark done the open automatic tasks whose ``origin_key`` starts with ``origin_key_prefix`` (what they asked
    for happened: the churn request they were about was closed). Returns how many."""
    ensure_can_write(actor)
    if not origin_key_prefix:
        return 0
    return Task.objects.filter(origin_key__startswith=origin_key_prefix, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, completed_at=clock.now()
    )


def _ensure_can_manage(task: Task, actor: User) -> None:
    ensure_can_write(actor)
    if not can_manage_task(actor, task_owner_id=task.owner_id):
        raise PermissionDenied(_("Only the task's owner or their leader can change it."))
    if task.status != TaskStatus.OPEN:
        raise ValidationError(_("This task is no longer open."))


def snooze_date(task: Task, days: int) -> date:
    """``days`` after the task's due date, or after today when it is due today or overdue: "+1 day" on an overdue
    task means tomorrow, not the day after the day it was missed."""
    return max(task.due_date, clock.today()) + timedelta(days=days)


@transaction.atomic
def task_snooze(*, task: Task, due_date: date, actor: User) -> Task:
    """Move an open task to another day, today or later. Its owner, or a leader over it (accounts.access)."""
    _ensure_can_manage(task, actor)
    if due_date < clock.today():
        raise ValidationError({"due_date": _("Choose today or a later day.")})
    task.due_date = due_date
    task.save(update_fields=["due_date"])
    return task


@transaction.atomic
def task_reassign(*, task: Task, to: User, actor: User) -> Task:
    """Hand an open task to someone else: a person the actor may give tasks to who sees the task's customer."""
    _ensure_can_manage(task, actor)
    sees = customers_visible_to(to).filter(pk=task.customer_id).exists()
    if not can_give_task(actor, to, person_sees_customer=sees):
        raise ValidationError({"owner": _("%(name)s cannot take this task.") % {"name": to}})
    task.owner = to
    task.save(update_fields=["owner"])
    return task
