from django.db import migrations


def install(apps, schema_editor):
    from portfolio.taxonomy import install_defaults

    install_defaults(
        apps.get_model("portfolio", "ChurnCategory"),
        apps.get_model("portfolio", "ChurnReason"),
        apps.get_model("portfolio", "ServiceModelPolicy"),
    )


class Migration(migrations.Migration):
    dependencies = [("portfolio", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
