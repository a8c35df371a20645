"""The beat's playbook jobs: advancing due steps every few minutes, and the daily date triggers."""

from celery import shared_task

from playbooks import engine


@shared_task(name="playbooks.tasks.runs_advance")
def runs_advance() -> int:
    """Run every step that is due (each in its own transaction; safe to run twice or after a crash)."""
    return engine.runs_advance_due()


@shared_task(name="playbooks.tasks.date_triggers_check")
def date_triggers_check() -> int:
    """Enrol the customers the date-relative triggers reach today, then run their first steps."""
    enrolled = engine.date_triggers_check()
    if enrolled:
        runs_advance.delay()
    return enrolled
