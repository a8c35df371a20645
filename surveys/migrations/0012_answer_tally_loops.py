"""The answer tallies count closed loops too (how many detractors were followed up, and the time it took added
up), so the results' "closing the loop" card reads them like the rest of the page. A build made before has
none: it is forgotten, and the results are counted live until the beat's next rebuild (a few minutes)."""

from django.db import migrations, models


def forget_builds(apps, schema_editor):
    apps.get_model("surveys", "TallyBuild").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0011_survey_defaults"),
    ]

    operations = [
        migrations.AddField(
            model_name="answertally",
            name="loop_time",
            field=models.DurationField(null=True),
        ),
        migrations.AddField(
            model_name="answertally",
            name="loops_closed",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(forget_builds, migrations.RunPython.noop),
    ]
