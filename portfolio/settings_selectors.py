"""What the journey's Settings pages read: the policies of every service model and the churn reason taxonomy."""

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from portfolio.models import ChurnCategory, ChurnReason, ChurnRequest, ServiceModel, ServiceModelPolicy
from portfolio.services.policies import policy_for
from portfolio.taxonomy import INVOLUNTARY_REASON


@dataclass(frozen=True)
class PolicyRow:
    service_model: str
    label: str
    policy: ServiceModelPolicy


def policies_by_service_model() -> list[PolicyRow]:
    """Every service model with its policy (the default one where none was saved yet), in one query."""
    saved = {p.service_model: p for p in ServiceModelPolicy.objects.all()}
    return [
        PolicyRow(service_model=value, label=str(label), policy=saved.get(value) or policy_for(value))
        for value, label in ServiceModel.choices
    ]


def churn_taxonomy() -> list[ChurnCategory]:
    """Every category with its reasons, retired ones included, each with how many churn requests name it
    (``in_use``) and whether Leme itself needs it (``kept_by_leme``: the involuntary reason, and its category), in
    two queries."""
    reasons = churn_reasons_with_usage().order_by("-active", "name_pt")
    categories = ChurnCategory.objects.annotate(
        kept_by_leme=Exists(ChurnReason.objects.filter(category=OuterRef("pk"), code=INVOLUNTARY_REASON))
    )
    return list(categories.order_by("name_pt").prefetch_related(Prefetch("reasons", queryset=reasons)))


def churn_reasons_with_usage() -> QuerySet[ChurnReason]:
    """Every churn reason, retired ones included, with how many churn requests name it (``in_use``) and whether
    Leme itself needs it (``kept_by_leme``: the involuntary reason), with its category (one query)."""
    usage = (
        ChurnRequest.objects.filter(reason=OuterRef("pk"))
        .order_by()
        .values("reason")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return ChurnReason.objects.select_related("category").annotate(
        in_use=Coalesce(Subquery(usage, output_field=IntegerField()), Value(0)),
        kept_by_leme=ExpressionWrapper(Q(code=INVOLUNTARY_REASON), output_field=BooleanField()),
    )


def churn_categories_with_reasons() -> QuerySet[ChurnCategory]:
    """Every churn category, retired ones included, with how many reasons it has (``reasons_count``), by name."""
    return ChurnCategory.objects.annotate(reasons_count=Count("reasons")).order_by("name_pt", "pk")
