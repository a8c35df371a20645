"""Product usage as it arrives, and as the score reads it.

``UsageEvent`` keeps each event a billing or product system sent, once (``source_id`` is the sender's event
id); ``UsageDay`` is the per-customer daily rollup the nightly score reads. Raw events older than the
retention setting are deleted by the beat; the rollups stay.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portfolio.models import Customer


class UsageEvent(models.Model):
    """One product-usage event: who at the customer did what, when."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="usage_events"
    )
    # The sender's id for the event: sending a batch twice stores each event once.
    source_id = models.CharField(_("event id"), max_length=100, unique=True)
    user_ref = models.CharField(_("user"), max_length=200)
    name = models.CharField(_("event"), max_length=100)
    occurred_at = models.DateTimeField(_("occurred at"))
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("usage event")
        verbose_name_plural = _("usage events")
        indexes = [
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["customer", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.user_ref} {self.occurred_at:%Y-%m-%d}"


class UsageDay(models.Model):
    """One customer's usage on one day (in Leme's time zone): events by name and distinct active users.

    Rebuilt from the raw events for the days that received events; the nightly score reads only these rows.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    active_users = models.IntegerField(default=0)
    events = models.IntegerField(default=0)
    # {"event name": count}
    events_by_name = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("usage day")
        verbose_name_plural = _("usage days")
        constraints = [
            models.UniqueConstraint(fields=["customer", "day"], name="health_one_usage_row_per_customer_day"),
            models.CheckConstraint(condition=Q(active_users__gte=0) & Q(events__gte=0), name="health_usage_counts"),
        ]
        indexes = [models.Index(fields=["day", "customer"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day}: {self.active_users} users, {self.events} events"
