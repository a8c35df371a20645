"""The default health profiles: one per service model and stage, each with a first version.

Onboarding customers are scored on onboarding measures (adoption, engagement, milestones on time, payment,
churn risk); ongoing tech-touch customers without the relationship measures (no one calls them); ongoing
high- and low-touch customers on all of them. The rules are written out here, frozen: later changes are new
versions made through the profile editor, never edits of this migration.
"""

from django.db import migrations


def m(weight, worst, best, fresh_days=90):
    return {"weight": weight, "worst": worst, "best": best, "fresh_days": fresh_days}


ONBOARDING = {
    "adoption": m(25, 10, 60),
    "engagement": m(20, 4, 20),
    "onboarding": m(35, 2, 0),
    "payment": m(10, 1, 0),
    "churn_risk": m(10, 1, 0),
}

ONGOING_ALL = {
    "adoption": m(20, 10, 70),
    "depth": m(5, 1, 10),
    "trend": m(10, -40, 0),
    "engagement": m(10, 4, 22),
    "relationship": m(15, 90, 21),
    "stakeholders": m(5, 0, 2),
    "survey": m(15, 30, 90, 180),
    "payment": m(10, 1, 0),
    "churn_risk": m(10, 1, 0),
}

ONGOING_TECH = {
    "adoption": m(25, 10, 70),
    "depth": m(10, 1, 10),
    "trend": m(15, -40, 0),
    "engagement": m(15, 4, 22),
    "survey": m(15, 30, 90, 180),
    "payment": m(10, 1, 0),
    "churn_risk": m(10, 1, 0),
}

NAMES = {"high": "High-touch", "low": "Low-touch", "tech": "Tech-touch"}


def create(apps, schema_editor):
    profile_model = apps.get_model("health", "HealthProfile")
    version_model = apps.get_model("health", "HealthProfileVersion")
    for service_model, name in NAMES.items():
        for stage, measures in (
            ("onboarding", ONBOARDING),
            ("ongoing", ONGOING_TECH if service_model == "tech" else ONGOING_ALL),
        ):
            profile, created = profile_model.objects.get_or_create(
                service_model=service_model, stage=stage, defaults={"name": f"{name} · {stage}"}
            )
            if created:
                version_model.objects.create(profile=profile, number=1, measures=measures, red_max=50, yellow_max=75)


class Migration(migrations.Migration):
    dependencies = [("health", "0002_health_score")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
