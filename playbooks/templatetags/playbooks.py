from django import template

from portfolio.models import PlanTier, Segment, ServiceModel, Stage

register = template.Library()

_CHOICES = (("service_models", ServiceModel), ("segments", Segment), ("stages", Stage), ("plan_tiers", PlanTier))


@register.filter
def audience_labels(version) -> list[str]:
    """A version's audience lists in the reader's words (service models, segments, stages, plans)."""
    labels = []
    for field, choices in _CHOICES:
        for code in getattr(version, field) or []:
            labels.append(str(choices(code).label) if code in choices.values else code)
    return labels
