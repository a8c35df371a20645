"""Each score carries the band of the customer's score of the day before (``previous_band``), written by the nightly
run, and the day's scores that turned red are indexed apart: "turned red today" reads the day's changes to red.

Rows written before this carry "" (no band known), except the last days', filled here from the day before's rows,
so today's card is right from the first request after the migration.
"""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

FILLED_DAYS = 3  # the days before today whose rows are filled, and today's


def fill_recent(apps, schema_editor):
    score = apps.get_model("health", "HealthScore")
    since = timezone.localdate() - timedelta(days=FILLED_DAYS)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            """
            UPDATE health_healthscore AS s SET previous_band = y.band
            FROM health_healthscore AS y
            WHERE s.day >= %s AND y.customer_id = s.customer_id AND y.day = s.day - 1 AND y.band <> ''
            """,
            [since],
        )
        return
    for row in score.objects.filter(day__gte=since).only("customer_id", "day"):
        before = score.objects.filter(customer_id=row.customer_id, day=row.day - timedelta(days=1)).first()
        if before is not None and before.band:
            score.objects.filter(pk=row.pk).update(previous_band=before.band)


class Migration(migrations.Migration):
    dependencies = [
        ("health", "0008_score_key_carries_band"),
    ]

    operations = [
        migrations.AddField(
            model_name="healthscore",
            name="previous_band",
            field=models.CharField(
                blank=True,
                choices=[("red", "Red"), ("yellow", "Yellow"), ("green", "Green")],
                default="",
                max_length=8,
            ),
        ),
        migrations.RunPython(fill_recent, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="healthscore",
            index=models.Index(
                condition=models.Q(("band", "red"), ("previous_band__in", ["yellow", "green"])),
                fields=["day", "score"],
                include=("customer", "override", "previous_band"),
                name="health_score_turned_red",
            ),
        ),
    ]
