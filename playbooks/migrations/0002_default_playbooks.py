from django.db import migrations
from django.utils import timezone


def install(apps, schema_editor):
    from playbooks.defaults import install_defaults

    install_defaults(apps.get_model("playbooks", "Playbook"), apps.get_model("playbooks", "PlaybookVersion"), timezone.now())


class Migration(migrations.Migration):
    dependencies = [("playbooks", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
