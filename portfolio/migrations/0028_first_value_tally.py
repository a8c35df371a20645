"""The first values reached per day and ISM (``FirstValueTally``), kept by triggers on ``portfolio_milestone`` and
``portfolio_customer``.

On PostgreSQL one statement-level trigger per operation on the milestones reads the statement's transition tables
(the demo's thousands of milestones written at once are one tally upsert, not thousands), each first value joined
to its customer for its start date and ISM; a row-level trigger on the customers, only when a start date or an ISM
changes, moves that customer's first values from the old key and days to the new. Each upsert touches the tally's
rows in (day, ism) order, so two writers lock them in the same order; the milestones' trigger reads their customers
under a share lock, so a customer moved to another ISM while its first value is reached is counted under the ISM
it ends with. The tally is filled from the milestones
already there after the triggers exist: creating a trigger locks its table against writes until the migration
commits, so none is counted twice or missed. Other databases get the table and no triggers: the board counts the
milestones there (``portfolio.tally.kept``).
"""

from django.db import migrations, models

UPSERT = """
    INSERT INTO portfolio_firstvaluetally (day, ism, reached, on_time, days)
    SELECT m.achieved_on, COALESCE(c.implementation_manager_id, 0), SUM(m.n),
           SUM(CASE WHEN m.achieved_on <= m.target_date THEN m.n ELSE 0 END),
           SUM(m.n * (m.achieved_on - c.start_date))
    FROM ({moved}) AS m JOIN portfolio_customer c ON c.id = m.customer_id
    WHERE c.start_date IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (day, ism) DO UPDATE SET
        reached = portfolio_firstvaluetally.reached + EXCLUDED.reached,
        on_time = portfolio_firstvaluetally.on_time + EXCLUDED.on_time,
        days = portfolio_firstvaluetally.days + EXCLUDED.days;
"""
REACHED = "SELECT customer_id, achieved_on, target_date, {n} AS n FROM {rows} WHERE kind = 'first_value' AND achieved_on IS NOT NULL"
ADDED = REACHED.format(n=1, rows="new_milestones")
TAKEN = REACHED.format(n=-1, rows="old_milestones")

POSTGRESQL = [
    f"""
    CREATE FUNCTION portfolio_first_value_tally_milestones() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- The customers' ISM and start date are read under a share lock, in id order: a transaction that moves
        -- one of these customers to another ISM (or start date) at the same moment either commits first, and the
        -- upsert below (a statement of its own, so a snapshot of its own) reads the new key, or waits for this one,
        -- and its trigger then moves this first value too. Without it, each would miss the other's change.
        IF TG_OP = 'INSERT' THEN
            PERFORM 1 FROM portfolio_customer WHERE id IN (SELECT customer_id FROM new_milestones)
                ORDER BY id FOR SHARE;
        ELSE
            PERFORM 1 FROM portfolio_customer WHERE id IN (SELECT customer_id FROM old_milestones)
                ORDER BY id FOR SHARE;
        END IF;
        IF TG_OP = 'INSERT' THEN
            {UPSERT.format(moved=ADDED)}
        ELSIF TG_OP = 'DELETE' THEN
            {UPSERT.format(moved=TAKEN)}
        ELSE
            {UPSERT.format(moved=ADDED + " UNION ALL " + TAKEN)}
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER portfolio_first_value_tally_insert AFTER INSERT ON portfolio_milestone
    REFERENCING NEW TABLE AS new_milestones
    FOR EACH STATEMENT EXECUTE FUNCTION portfolio_first_value_tally_milestones()
    """,
    """
    CREATE TRIGGER portfolio_first_value_tally_update AFTER UPDATE ON portfolio_milestone
    REFERENCING OLD TABLE AS old_milestones NEW TABLE AS new_milestones
    FOR EACH STATEMENT EXECUTE FUNCTION portfolio_first_value_tally_milestones()
    """,
    """
    CREATE TRIGGER portfolio_first_value_tally_delete AFTER DELETE ON portfolio_milestone
    REFERENCING OLD TABLE AS old_milestones
    FOR EACH STATEMENT EXECUTE FUNCTION portfolio_first_value_tally_milestones()
    """,
    """
    CREATE FUNCTION portfolio_first_value_tally_customer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO portfolio_firstvaluetally (day, ism, reached, on_time, days)
        SELECT m.achieved_on, p.ism, SUM(p.n),
               SUM(CASE WHEN m.achieved_on <= m.target_date THEN p.n ELSE 0 END),
               SUM(p.n * (m.achieved_on - p.start_date))
        FROM portfolio_milestone m
        CROSS JOIN (VALUES (COALESCE(OLD.implementation_manager_id, 0), OLD.start_date, -1),
                           (COALESCE(NEW.implementation_manager_id, 0), NEW.start_date, 1)) AS p (ism, start_date, n)
        WHERE m.customer_id = NEW.id AND m.kind = 'first_value' AND m.achieved_on IS NOT NULL
          AND p.start_date IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (day, ism) DO UPDATE SET
            reached = portfolio_firstvaluetally.reached + EXCLUDED.reached,
            on_time = portfolio_firstvaluetally.on_time + EXCLUDED.on_time,
            days = portfolio_firstvaluetally.days + EXCLUDED.days;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER portfolio_first_value_tally_customer AFTER UPDATE ON portfolio_customer
    FOR EACH ROW WHEN (OLD.start_date IS DISTINCT FROM NEW.start_date
                       OR OLD.implementation_manager_id IS DISTINCT FROM NEW.implementation_manager_id)
    EXECUTE FUNCTION portfolio_first_value_tally_customer()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS portfolio_first_value_tally_insert ON portfolio_milestone",
    "DROP TRIGGER IF EXISTS portfolio_first_value_tally_update ON portfolio_milestone",
    "DROP TRIGGER IF EXISTS portfolio_first_value_tally_delete ON portfolio_milestone",
    "DROP TRIGGER IF EXISTS portfolio_first_value_tally_customer ON portfolio_customer",
    "DROP FUNCTION IF EXISTS portfolio_first_value_tally_milestones()",
    "DROP FUNCTION IF EXISTS portfolio_first_value_tally_customer()",
]
FILL = UPSERT.format(moved=REACHED.format(n=1, rows="portfolio_milestone"))


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in POSTGRESQL:
        schema_editor.execute(sql)
    schema_editor.execute(FILL)


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in POSTGRESQL_DROP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0027_indexes_for_a_leaders_windows"),
    ]

    operations = [
        migrations.CreateModel(
            name="FirstValueTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("ism", models.IntegerField()),
                ("reached", models.IntegerField(default=0)),
                ("on_time", models.IntegerField(default=0)),
                ("days", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "first value tally",
                "verbose_name_plural": "first value tallies",
                "constraints": [
                    models.UniqueConstraint(fields=("day", "ism"), name="portfolio_one_fv_tally_per_day_ism")
                ],
            },
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
