from django.db import migrations
from django.utils import timezone


def take_over(apps, schema_editor):
    from playbooks.defaults import take_over_builtins

    take_over_builtins(
        apps.get_model("playbooks", "Playbook"), apps.get_model("playbooks", "PlaybookVersion"), timezone.now()
    )


class Migration(migrations.Migration):
    """"Detractor recovery" and "UTI recovery month" become the source of those tasks: active, with the steps
    that reproduce the built-in rules they replace."""

    dependencies = [("playbooks", "0003_step_emails_and_opt_outs")]

    operations = [migrations.RunPython(take_over, migrations.RunPython.noop)]
