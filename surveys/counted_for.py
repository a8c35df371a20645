"""Whom and where survey rows count for (``surveys.models._CountedFor``), filled in for rows written without it:
the CSM who owned the customer at the moment (from the ownership periods; the current owner when none covers
it) and the customer's current segment, service model and plan. The app sets these as it writes each row
(planning, ``answer_record``, ``chi_assessment_record``); this is for rows written in bulk (the demo, an
import), set-based, one UPDATE per kind of row. The data migration ``0007_counted_for_backfill`` does the same
for the rows that existed before."""

from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from portfolio.models import Customer, OwnershipPeriod
from surveys.models import ChiAssessment, Delivery, Response


def _counted_for_at(moment: str) -> dict:
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


def counted_for_fill() -> int:
    """Fill in the rows about a customer that were written without a segment (so without any of the four):
    deliveries as of when they were sent (or planned), answers as of when they were given, CSM assessments as
    of their latest change. Returns how many rows were filled; running it again fills nothing."""
    missing = Q(customer__isnull=False, segment="")
    filled = Delivery.objects.filter(missing, sent_at__isnull=False).update(**_counted_for_at("sent_at"))
    filled += Delivery.objects.filter(missing, sent_at__isnull=True).update(**_counted_for_at("created_at"))
    filled += Response.objects.filter(missing).update(**_counted_for_at("answered_at"))
    filled += ChiAssessment.objects.filter(missing).update(**_counted_for_at("updated_at"))
    return filled
