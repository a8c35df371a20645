"""Starting a large import as a background job (``imports.import_job_run`` writes it) and finding one's own."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from accounts.access import can_import, visible_filter
from accounts.models import User
from core import jobs
from portfolio import tasks
from portfolio.models import ImportJob


@transaction.atomic
def import_job_start(*, kind: str, text: str, rows: int, actor: User) -> ImportJob:
    """Keep a checked file to be written by a job once this commits; the job's page follows it."""
    if not can_import(actor):
        raise PermissionDenied
    job = ImportJob.objects.create(actor=actor, kind=kind, text=text, rows=rows)
    jobs.queue_on_commit(tasks.import_job_run, job.pk)
    return job


def import_job_get(user: User, pk: int) -> ImportJob:
    """An import job ``user`` may follow: their own, and those of the people they see (their team's leader and
    viewers, admins: visible_filter over its person); anyone else's does not exist for them."""
    job = ImportJob.objects.filter(visible_filter(user, people=("actor",)), pk=pk).first()
    if job is None:
        raise Http404
    return job
