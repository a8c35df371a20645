"""The bell's notices: what happened to a person's customers while they were away. Event subscribers create them
(portfolio's for churn requests, reassignments and handoffs; surveys' for detractor answers), once per
occurrence and person (``origin_key``); the person reads them from the bell, which marks them read.

The bell's count is kept on the person (``User.notifications_unread``, through accounts' services) in the same
transaction as the notices, so that showing it costs no query on any page."""

import logging

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from portfolio.models import Notification, NotificationKind
from portfolio.selectors.scope import customers_visible_to

logger = logging.getLogger(__name__)


@transaction.atomic
def notification_create(
    *,
    recipient_id: int | None,
    customer_id: int,
    kind: NotificationKind,
    origin_key: str,
    actor_id: int | None = None,
    facts: dict | None = None,
) -> Notification | None:
    """Tell ``recipient`` that something happened to one of their customers. Nothing for nobody, for a person
    told of their own act, for a deactivated person, or for a customer the person may not see (the door); the
    same ``origin_key`` twice gives the first notice (a redelivered event tells nobody twice)."""
    if recipient_id is None or recipient_id == actor_id:
        return None
    recipient = User.objects.filter(pk=recipient_id, is_active=True).first()
    if recipient is None or not customers_visible_to(recipient).filter(pk=customer_id).exists():
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                customer_id=customer_id,
                kind=kind,
                actor_id=actor_id,
                facts=facts or {},
                origin_key=origin_key,
            )
    except IntegrityError:
        return Notification.objects.get(recipient=recipient, origin_key=origin_key)
    account_services.notifications_unread_add(user_id=recipient.pk)
    return notification


def notifications_mark_read(*, user: User, notifications: QuerySet[Notification] | list[Notification]) -> int:
    """Mark the person's notices they have just seen as read, and set the bell's count to what is left unread
    among the customers they may still see. Only ``user``'s own notices are touched, whatever the caller
    passes."""
    ids = [n.pk for n in notifications if n.read_at is None and n.recipient_id == user.pk]
    if not ids and not user.notifications_unread:
        return 0  # nothing new shown, nothing counted: a look at read notices writes nothing
    with transaction.atomic():
        marked = 0
        if ids:
            marked = Notification.objects.filter(pk__in=ids, recipient=user, read_at__isnull=True).update(
                read_at=timezone.now()
            )
        # Only what the list can show counts: a customer reassigned away since took its notices with it.
        left = (
            Notification.objects.filter(recipient=user, read_at__isnull=True)
            .filter(customer__in=customers_visible_to(user).values("pk"))
            .count()
        )
        if left != user.notifications_unread:
            account_services.notifications_unread_set(user_id=user.pk, count=left)
            user.notifications_unread = left
    return marked
