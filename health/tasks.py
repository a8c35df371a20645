"""Health's jobs: each calls a service, nothing else."""

from celery import shared_task

from health import services


@shared_task
def scores_recompute() -> dict:
    """Beat, nightly: today's health score of every customer (safe to run twice: see the service)."""
    result = services.scores_recompute()
    return {"day": result.day.isoformat(), "scored": result.scored, "band_changes": result.band_changes}
