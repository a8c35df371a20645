"""The service-model policies that date milestones, reviews and the UTI month."""

from portfolio.models import (
    ServiceModelPolicy,
)
from portfolio.taxonomy import POLICIES


def policy_for(service_model: str) -> ServiceModelPolicy:
    policy = ServiceModelPolicy.objects.filter(service_model=service_model).first()
    if policy is None:
        defaults = {p[0]: p for p in POLICIES}[service_model]
        policy = ServiceModelPolicy(
            service_model=service_model,
            first_value_days=defaults[1],
            first_success_days=defaults[2],
            review_every_months=defaults[3],
            handoff_by_meeting=defaults[4],
            uti_days=defaults[5],
        )
    return policy
