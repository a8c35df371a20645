"""What onboarding and the Settings page read of the milestone templates: the active templates a service model's
new customers get, and every template per service model with how many milestones use it."""

from django.db.models import Count, QuerySet

from portfolio.models import MilestoneTemplate, ServiceModel


def milestone_templates_active(service_model: str) -> list[MilestoneTemplate]:
    """The templates a customer entering onboarding under ``service_model`` gets, in order (one query)."""
    return list(MilestoneTemplate.objects.filter(service_model=service_model, active=True).order_by("position", "pk"))


def milestone_templates_all() -> QuerySet[MilestoneTemplate]:
    """Every template, retired ones included, in order, each with ``in_use``: how many milestones it gave."""
    return MilestoneTemplate.objects.annotate(in_use=Count("milestones")).order_by("service_model", "position", "pk")


def milestone_templates_by_service_model() -> list[tuple[str, str, list[MilestoneTemplate]]]:
    """Each service model (value, label) with all its templates in order (one query)."""
    rows = list(milestone_templates_all())
    return [(model.value, str(model.label), [r for r in rows if r.service_model == model]) for model in ServiceModel]
