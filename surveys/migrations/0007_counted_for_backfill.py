"""Existing deliveries, answers and CHI assessments count for the CSM who owned the customer at the time
(from the ownership periods; the current owner when no period covers that moment) and for the customer's
current segment, service model and plan (their history is not kept)."""

from django.db import migrations
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce


def _counted_for(apps, moment: str) -> dict:
    Customer = apps.get_model("portfolio", "Customer")
    OwnershipPeriod = apps.get_model("portfolio", "OwnershipPeriod")
    customer = Customer.objects.filter(pk=OuterRef("customer_id"))
    owner_then = (
        OwnershipPeriod.objects.filter(customer_id=OuterRef("customer_id"), started_at__lte=OuterRef(moment))
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=OuterRef(moment)))
        .order_by("-started_at", "-pk")
        .values("owner_id")[:1]
    )
    return {
        "csm_id": Coalesce(Subquery(owner_then), Subquery(customer.values("owner_id")[:1])),
        "segment": Subquery(customer.values("segment")[:1]),
        "service_model": Subquery(customer.values("service_model")[:1]),
        "plan_tier": Subquery(customer.values("plan_tier")[:1]),
    }


def backfill(apps, schema_editor):
    Delivery = apps.get_model("surveys", "Delivery")
    Response = apps.get_model("surveys", "Response")
    ChiAssessment = apps.get_model("surveys", "ChiAssessment")
    about_customers = Q(customer__isnull=False)
    Delivery.objects.filter(about_customers, sent_at__isnull=False).update(**_counted_for(apps, "sent_at"))
    Delivery.objects.filter(about_customers, sent_at__isnull=True).update(**_counted_for(apps, "created_at"))
    Response.objects.filter(about_customers).update(**_counted_for(apps, "answered_at"))
    ChiAssessment.objects.filter(about_customers).update(**_counted_for(apps, "updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0005_activity_kinds_registered"),
        ("surveys", "0006_counted_for"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
