"""Health jobs: each takes ids or dates, calls the rollup or the clean-up, nothing else."""

from datetime import date, timedelta

from celery import shared_task

from core import clock, tally
from health import rollup, services
from health import tally as band_tally


@shared_task(autoretry_for=(Exception,), retry_backoff=5, retry_backoff_max=300, retry_jitter=True, max_retries=8)
def usage_rollup_days(days: list[str], customer_ids: list[int] | None = None) -> int:
    """After an ingest commits: rebuild the days (ISO dates) its new events fell on, for its customers."""
    return rollup.usage_rollup(days=[date.fromisoformat(d) for d in days], customer_ids=customer_ids)


@shared_task
def usage_rollup_yesterday() -> int:
    """Beat, nightly: rebuild yesterday for every customer (catches anything an ingest's own rollup missed)."""
    return rollup.usage_rollup(days=[clock.today() - timedelta(days=1)])


@shared_task
def usage_events_prune() -> int:
    """Beat, nightly: delete raw events older than LEME_USAGE_RETENTION_DAYS, in batches; rollups stay."""
    return rollup.usage_events_prune()


@shared_task
def band_tally_mend() -> dict:
    """Beat, nightly, after the health run: the scores' band tally checked against the scores, and rebuilt (the
    difference logged as an error) where it differs. Safe twice."""
    return tally.mend("health bands", band_tally)


# Health's jobs: each calls a service, nothing else.


@shared_task
def scores_recompute() -> dict:
    """Beat, nightly: today's health score of every customer (safe to run twice: see the service)."""
    result = services.scores_recompute()
    return {"day": result.day.isoformat(), "scored": result.scored, "band_changes": result.band_changes}
