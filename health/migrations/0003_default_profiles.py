"""The default health profiles (health/defaults.py): one per service model and stage."""

from django.db import migrations


def create(apps, schema_editor):
    from health.defaults import install_defaults

    install_defaults(apps.get_model("health", "HealthProfile"), apps.get_model("health", "HealthProfileVersion"))


class Migration(migrations.Migration):
    dependencies = [("health", "0002_health_score")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
