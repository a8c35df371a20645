"""Background jobs of the portfolio. Each calls a service; each is safe to run twice."""

from datetime import date

from celery import shared_task

from accounts.tasks import EMAIL_RETRY
from core import jobs, tally
from portfolio import book_tally, digest, imports, services
from portfolio import tally as first_value_tally


@shared_task
def delinquency_escalate() -> int:
    """Daily: customers still delinquent after LEME_DELINQUENCY_CHURN_DAYS get an involuntary churn request.
    Safe twice: a customer with an open churn request is skipped."""
    return len(services.delinquency_escalate())


@shared_task
def ledger_sync_effective(days: int = 2) -> int:
    """Daily: customers whose subscriptions started or ended in the last ``days`` days get their ledger and
    MRR brought up to date, so changes recorded ahead of time take effect on their day. Safe twice."""
    return services.ledger_sync_effective(days=days)


@shared_task
def digests_send_due() -> int:
    """Beat, every 15 minutes: queue the morning digest of everyone whose 8:00 has come and who has not had
    today's (portfolio.digest). Safe twice and concurrently: each digest is claimed by a unique row."""
    due = digest.digests_due()
    for user_id, day in due:
        digest_send.delay(user_id, day.isoformat())
    return len(due)


@shared_task(**EMAIL_RETRY)
def digest_send(user_id: int, day: str) -> bool:
    """One person's morning digest of one day. A refused send rolls its claim back; the retry (or the next beat)
    sends it."""
    return digest.digest_send(user_id=user_id, day=date.fromisoformat(day))


@shared_task
def import_job_run(job_id: int) -> None:
    """A large CSV import confirmed on the page: all rows written, or none and the rows to fix. Safe twice: only
    a queued job starts."""
    imports.import_job_run(job_id=job_id)


@shared_task
def import_jobs_recover() -> int:
    """Beat, every 5 minutes: import jobs whose worker died are queued again (nothing of the dead run was
    written), or failed once they have had their attempts (portfolio.imports.import_jobs_recover). Safe twice:
    a job queued again is claimed by this run's update, and only a queued job starts."""
    again = imports.import_jobs_recover()
    for job_id in again:
        jobs.queue(import_job_run, job_id, notify=False)
    return len(again)


@shared_task
def tallies_mend() -> list[dict]:
    """Beat, nightly: the first values' and the customer book's tallies checked against their rows, and rebuilt
    (the difference logged as an error) where they differ. Safe twice: a tally that agrees is left alone."""
    if not book_tally.kept():  # no triggers keep them (SQLite): the pages count the rows
        return []
    return [tally.mend("first values", first_value_tally), tally.mend("customer book", book_tally)]
