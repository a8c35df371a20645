"""Metrics jobs: each calls a service, nothing else."""

from celery import shared_task

from metrics import services


@shared_task(autoretry_for=(Exception,), retry_backoff=5, retry_backoff_max=300, retry_jitter=True, max_retries=8)
def rollups_refresh() -> int:
    """After the ledger changes: rebuild the periods the stale months touch."""
    return services.rollups_refresh()


@shared_task
def rollups_rebuild() -> int:
    """Beat, nightly: rebuild every period (also catches changes no event announced, such as a scheduled
    cancellation taking effect)."""
    return services.rollups_rebuild_all()


@shared_task
def operations_tallies_rebuild() -> int:
    """Beat, every ten minutes: the CS operations' closed months counted again (a missed run is made up by the
    next; the pages count live once the last build is too old)."""
    return services.operations_tallies_rebuild()["rows"]
