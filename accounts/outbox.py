"""The outbox: background jobs the web process could not queue because the broker was unreachable
(``core.jobs``), kept in ``OutboxJob`` rows and queued again by a beat job (``accounts.tasks.outbox_flush``,
every minute) once the broker is back. A row is deleted once the broker has taken its job; a job queued and
then kept anyway (the delete did not commit) runs twice, which every task is written to survive.

``core`` queues the jobs but has no models; ``accounts``, the lowest app with models, keeps them, and
registers :func:`keep` with ``core.jobs.set_outbox`` when it starts (``AccountsConfig.ready``)."""

import logging
from dataclasses import asdict, dataclass

from celery import current_app
from django.db import transaction

from accounts.models import OutboxJob

logger = logging.getLogger(__name__)

FLUSH_BATCH = 500


def keep(task_name: str, args: tuple, kwargs: dict) -> None:
    """Keep a job for later (its own short transaction: the write that wanted it has committed already)."""
    OutboxJob.objects.create(task_name=task_name, args=list(args), kwargs=kwargs)


@dataclass
class FlushResult:
    queued: int = 0
    failed: int = 0
    left: int = 0

    def summary(self) -> dict:
        return asdict(self)


def flush(*, limit: int = FLUSH_BATCH) -> FlushResult:
    """Queue the kept jobs again, oldest first, deleting each once the broker has taken it. Stops at the first
    job the broker refuses (it is still down); rows another flush holds are skipped, so two runs never queue
    one job twice."""
    result = FlushResult()
    with transaction.atomic():
        rows = list(OutboxJob.objects.select_for_update(skip_locked=True).order_by("pk")[:limit])
        for row in rows:
            task = current_app.tasks.get(row.task_name)
            try:
                if task is None:
                    raise LookupError(f"no task named {row.task_name}")
                task.apply_async(tuple(row.args), row.kwargs)
            except Exception as exc:
                result.failed += 1
                OutboxJob.objects.filter(pk=row.pk).update(attempts=row.attempts + 1, last_error=str(exc)[:300])
                logger.warning("outbox job not queued", extra={"task": row.task_name, "outbox_id": row.pk})
                if task is not None:
                    break  # the broker is still down: the next run tries again
                continue
            row.delete()
            result.queued += 1
    result.left = OutboxJob.objects.count()
    if result.queued or result.failed:
        logger.info("outbox flushed", extra=result.summary())
    return result
