"""Reads of health data."""

from collections.abc import Iterable

from django.db.models import Sum

from portfolio.models import RUNNING_STATUSES, Customer, Subscription


def licences_by_customer(customer_ids: Iterable[int]) -> dict[int, int | None]:
    """Each customer's licences (the seats its users may fill, the denominator of "active users vs licences"):
    ``Customer.licences`` when set, otherwise the seats of its running subscriptions added up; ``None`` when
    neither says (no licences known: the measure is left out, never divided by 0). Two queries for any number."""
    ids = list(set(customer_ids))
    if not ids:
        return {}
    set_here = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "licences"))
    seats = dict(
        Subscription.objects.filter(customer_id__in=ids, status__in=RUNNING_STATUSES, seats__isnull=False)
        .values("customer_id")
        .annotate(total=Sum("seats"))
        .values_list("customer_id", "total")
    )
    return {pk: licences if licences is not None else seats.get(pk) for pk, licences in set_here.items()}
