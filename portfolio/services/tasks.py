"""Tasks: work for one person about one customer. Automatic ones are idempotent by ``origin_key``."""

from datetime import date

from django.db import IntegrityError, transaction

from accounts.access import ensure_can_write
from accounts.models import User
from core import clock
from portfolio.models import (
    Customer,
    Task,
    TaskStatus,
)


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
