"""The per-day band tally of the scores (``HealthBandTally``), kept by triggers on ``health_healthscore``.

On PostgreSQL one statement-level trigger per operation reads the statement's transition tables: the nightly
run's INSERT … ON CONFLICT DO UPDATE of a thousand rows is one tally upsert for its inserted rows and one for its
updated rows, not a thousand. Each upsert touches the tally's rows in (day, band) order, so two writers lock them
in the same order. On SQLite (the embedded default) row-level triggers do the same. The tally is filled from the
scores already there after the triggers exist: creating a trigger locks the scores against writes until the
migration commits, so none is counted twice or missed.
"""

from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE FUNCTION health_band_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO health_healthbandtally (day, band, scores)
            SELECT day, band, COUNT(*) FROM new_scores GROUP BY day, band ORDER BY day, band
            ON CONFLICT (day, band) DO UPDATE SET scores = health_healthbandtally.scores + EXCLUDED.scores;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO health_healthbandtally (day, band, scores)
            SELECT day, band, -COUNT(*) FROM old_scores GROUP BY day, band ORDER BY day, band
            ON CONFLICT (day, band) DO UPDATE SET scores = health_healthbandtally.scores + EXCLUDED.scores;
        ELSE
            INSERT INTO health_healthbandtally (day, band, scores)
            SELECT day, band, SUM(n) FROM (
                SELECT day, band, 1 AS n FROM new_scores
                UNION ALL
                SELECT day, band, -1 AS n FROM old_scores
            ) AS moved
            GROUP BY day, band HAVING SUM(n) <> 0 ORDER BY day, band
            ON CONFLICT (day, band) DO UPDATE SET scores = health_healthbandtally.scores + EXCLUDED.scores;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER health_band_tally_insert AFTER INSERT ON health_healthscore
    REFERENCING NEW TABLE AS new_scores FOR EACH STATEMENT EXECUTE FUNCTION health_band_tally_apply()
    """,
    """
    CREATE TRIGGER health_band_tally_update AFTER UPDATE ON health_healthscore
    REFERENCING OLD TABLE AS old_scores NEW TABLE AS new_scores
    FOR EACH STATEMENT EXECUTE FUNCTION health_band_tally_apply()
    """,
    """
    CREATE TRIGGER health_band_tally_delete AFTER DELETE ON health_healthscore
    REFERENCING OLD TABLE AS old_scores FOR EACH STATEMENT EXECUTE FUNCTION health_band_tally_apply()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS health_band_tally_insert ON health_healthscore",
    "DROP TRIGGER IF EXISTS health_band_tally_update ON health_healthscore",
    "DROP TRIGGER IF EXISTS health_band_tally_delete ON health_healthscore",
    "DROP FUNCTION IF EXISTS health_band_tally_apply()",
]

ADD = """INSERT INTO health_healthbandtally (day, band, scores) VALUES ({row}.day, {row}.band, {n})
    ON CONFLICT (day, band) DO UPDATE SET scores = scores + {n};"""
SQLITE = [
    f"""
    CREATE TRIGGER health_band_tally_insert AFTER INSERT ON health_healthscore BEGIN
        {ADD.format(row="NEW", n=1)}
    END
    """,
    f"""
    CREATE TRIGGER health_band_tally_update AFTER UPDATE OF day, band ON health_healthscore
    WHEN OLD.day IS NOT NEW.day OR OLD.band IS NOT NEW.band BEGIN
        {ADD.format(row="OLD", n=-1)}
        {ADD.format(row="NEW", n=1)}
    END
    """,
    f"""
    CREATE TRIGGER health_band_tally_delete AFTER DELETE ON health_healthscore BEGIN
        {ADD.format(row="OLD", n=-1)}
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS health_band_tally_insert",
    "DROP TRIGGER IF EXISTS health_band_tally_update",
    "DROP TRIGGER IF EXISTS health_band_tally_delete",
]

FILL = """
INSERT INTO health_healthbandtally (day, band, scores)
SELECT day, band, COUNT(*) FROM health_healthscore GROUP BY day, band
"""


def triggers_create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"The health band tally's triggers exist for PostgreSQL and SQLite, not {vendor}.")
    for sql in POSTGRESQL if vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql)
    schema_editor.execute(FILL)


def triggers_drop(apps, schema_editor):
    for sql in POSTGRESQL_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("health", "0005_score_not_red_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="HealthBandTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                (
                    "band",
                    models.CharField(
                        blank=True,
                        choices=[("red", "Red"), ("yellow", "Yellow"), ("green", "Green")],
                        max_length=8,
                    ),
                ),
                ("scores", models.IntegerField(default=0)),
            ],
            options={
                "verbose_name": "health band tally",
                "verbose_name_plural": "health band tallies",
                "constraints": [models.UniqueConstraint(fields=("day", "band"), name="health_one_tally_per_day_band")],
            },
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
