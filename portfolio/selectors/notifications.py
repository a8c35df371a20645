"""The bell: a person's notices about their customers, newest first."""

from django.db.models import QuerySet

from accounts.models import User
from portfolio.models import Notification
from portfolio.selectors.scope import of_visible_customers

NOTIFICATIONS_SHOWN = 30


def notifications_of(user: User) -> QuerySet[Notification]:
    """The person's own notices, about customers they may still see (a customer reassigned away since takes
    its notices with it), with what each line shows: two tables joined, one query."""
    return (
        of_visible_customers(Notification, user)
        .filter(recipient=user)
        .select_related("customer", "actor")
        .order_by("-created_at", "-pk")
    )
