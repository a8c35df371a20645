"""The default health profiles, installed by a data migration (and put back by the tests after a
transactional test empties the tables): one profile per service model and stage, each with a first version.

Onboarding customers are scored on onboarding measures (adoption, engagement, milestones on time, payment,
churn risk); ongoing tech-touch customers without the relationship measures (nobody calls them); ongoing
high- and low-touch customers on all of them. Later changes are new versions, never edits of these.
"""


def _m(weight: int, worst: float, best: float, fresh_days: int = 90) -> dict:
    return {"weight": weight, "worst": worst, "best": best, "fresh_days": fresh_days}


ONBOARDING = {
    "adoption": _m(25, 10, 60),
    "engagement": _m(20, 4, 20),
    "onboarding": _m(35, 2, 0),
    "payment": _m(10, 1, 0),
    "churn_risk": _m(10, 1, 0),
}

ONGOING = {
    "adoption": _m(20, 10, 70),
    "depth": _m(5, 1, 10),
    "trend": _m(10, -40, 0),
    "engagement": _m(10, 4, 22),
    "relationship": _m(15, 90, 21),
    "stakeholders": _m(5, 0, 2),
    "survey": _m(15, 30, 90, 180),
    "payment": _m(10, 1, 0),
    "churn_risk": _m(10, 1, 0),
}

ONGOING_TECH_TOUCH = {
    "adoption": _m(25, 10, 70),
    "depth": _m(10, 1, 10),
    "trend": _m(15, -40, 0),
    "engagement": _m(15, 4, 22),
    "survey": _m(15, 30, 90, 180),
    "payment": _m(10, 1, 0),
    "churn_risk": _m(10, 1, 0),
}

SERVICE_MODELS = {"high": "High-touch", "low": "Low-touch", "tech": "Tech-touch"}


def default_measures(service_model: str, stage: str) -> dict:
    if stage == "onboarding":
        return ONBOARDING
    return ONGOING_TECH_TOUCH if service_model == "tech" else ONGOING


def install_defaults(profile_model, version_model) -> None:
    """Create the missing default profiles with their first version (models passed in, so the migration
    can give its historical ones)."""
    for service_model, name in SERVICE_MODELS.items():
        for stage in ("onboarding", "ongoing"):
            profile, created = profile_model.objects.get_or_create(
                service_model=service_model, stage=stage, defaults={"name": f"{name} · {stage}"}
            )
            if created or not version_model.objects.filter(profile=profile).exists():
                version_model.objects.create(
                    profile=profile,
                    number=1,
                    measures=default_measures(service_model, stage),
                    red_max=50,
                    yellow_max=75,
                )
