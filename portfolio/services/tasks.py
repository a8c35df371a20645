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
