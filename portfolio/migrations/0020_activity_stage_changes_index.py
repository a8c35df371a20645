"""The stage changes logged with their stages get their own partial index on the timeline: which customers log
one is read from the index alone, and a customer's last change before a day is found without reading its touches
and notes (``portfolio.selectors.stage_on``, for the metrics' success-review coverage on a past day)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0019_indexes_for_my_day"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("data__has_key", "to"), ("kind", "stage")),
                fields=["customer", "happened_at"],
                name="portfolio_activity_stage_chg",
            ),
        ),
    ]
