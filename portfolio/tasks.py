"""Background jobs of the portfolio. Each calls a service; each is safe to run twice."""

from celery import shared_task

from portfolio import imports, services


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
def import_job_run(job_id: int) -> None:
    """A large CSV import confirmed on the page: all rows written, or none and the rows to fix. Safe twice: only
    a queued job starts."""
    imports.import_job_run(job_id=job_id)
