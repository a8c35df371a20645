from django.db import migrations
from django.utils import timezone


def take_over(apps, schema_editor):
    from playbooks.defaults import INSTALLED_ACTIVE, install_defaults

    install_defaults(
        apps.get_model("playbooks", "Playbook"),
        apps.get_model("playbooks", "PlaybookVersion"),
        timezone.now(),
        keys=INSTALLED_ACTIVE,
    )


class Migration(migrations.Migration):
    """"Churn request" and "Overdue payment" become the source of those tasks: installed active where they are
    missing, with the steps that reproduce the built-in rules they replace (portfolio no longer creates them)."""

    dependencies = [("playbooks", "0004_defaults_take_over_detractor_and_uti")]

    operations = [migrations.RunPython(take_over, migrations.RunPython.noop)]
