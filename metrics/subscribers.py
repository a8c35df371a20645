"""Keep the rollups in step with the ledger: a subscription change marks its first affected month stale and
queues a refresh a few seconds later, so a burst of changes (an import, a bulk churn) makes one rebuild.

Without a worker (the embedded run, where tasks run in-process at once) a refresh per change would rebuild
the same periods for every subscription of a demo seed or an import; there the metrics page refreshes what
is stale when it is opened instead (``metrics.views.overview``).
"""

from django.conf import settings

from core.events import subscriber
from metrics import services, tasks
from portfolio import events
from portfolio.models import Subscription

REFRESH_AFTER_SECONDS = 10


def _stale_from(day) -> None:
    services.rollups_mark_stale(day=day)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        tasks.rollups_refresh.apply_async(countdown=REFRESH_AFTER_SECONDS)


@subscriber(events.SubscriptionCreated)
def rollups_after_subscription_created(event: events.SubscriptionCreated) -> None:
    start = Subscription.objects.filter(pk=event.subscription_id).values_list("start_date", flat=True).first()
    if start is not None:
        _stale_from(start)


@subscriber(events.SubscriptionChanged)
def rollups_after_subscription_changed(event: events.SubscriptionChanged) -> None:
    _stale_from(event.effective_date)


@subscriber(events.SubscriptionCancelled)
def rollups_after_subscription_cancelled(event: events.SubscriptionCancelled) -> None:
    _stale_from(event.end_date)
