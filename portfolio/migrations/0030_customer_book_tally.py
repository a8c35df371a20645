"""The customers and MRR per CSM, stage, service model, segment and band (``CustomerBookTally``), kept by triggers on
``portfolio_customer``.

On PostgreSQL one statement-level trigger per operation reads the statement's transition tables: the nightly health
run's update of ten thousand customers' bands, a bulk reassignment or the demo's thousands of customers written at
once are one tally upsert per cell they move, not one per customer. An update's old rows are subtracted and its new
rows added, and a cell whose count and MRR both net to nothing is left alone, so an update that changes none of the
tallied columns (a customer's last touch, its name) writes nothing. PostgreSQL allows no column list on a trigger
with transition tables: the update trigger runs for every update of the customers, and finds nothing to move in
those. Each upsert touches the tally's rows in key order, so two writers lock them in the same order; a writer waits
on a cell another has moved until it commits, then adds to what that one left. A ``TRUNCATE`` of the customers
(which fires no row or statement trigger of the others) empties the tally by a trigger of its own.

The tally is filled from the customers already there after the triggers exist: creating a trigger locks the customers
against writes until the migration commits, so none is counted twice or missed. Other databases get the table and no
triggers: the pages count the customers there (``portfolio.book_tally.kept``).
"""

from django.db import migrations, models

UPSERT = """
    INSERT INTO portfolio_customerbooktally (owner_id, stage, service_model, segment, health_band, customers, mrr_cents)
    SELECT owner_id, stage, service_model, segment, health_band, SUM(n), SUM(n * mrr_cents)
    FROM ({moved}) AS moved
    GROUP BY owner_id, stage, service_model, segment, health_band
    HAVING SUM(n) <> 0 OR SUM(n * mrr_cents) <> 0
    ORDER BY owner_id, stage, service_model, segment, health_band
    ON CONFLICT (owner_id, stage, service_model, segment, health_band) DO UPDATE SET
        customers = portfolio_customerbooktally.customers + EXCLUDED.customers,
        mrr_cents = portfolio_customerbooktally.mrr_cents + EXCLUDED.mrr_cents;
"""
ROWS = "SELECT owner_id, stage, service_model, segment, health_band, mrr_cents, {n} AS n FROM {rows}"
ADDED = ROWS.format(n=1, rows="new_customers")
TAKEN = ROWS.format(n=-1, rows="old_customers")

POSTGRESQL = [
    f"""
    CREATE FUNCTION portfolio_book_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
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
    CREATE TRIGGER portfolio_book_tally_insert AFTER INSERT ON portfolio_customer
    REFERENCING NEW TABLE AS new_customers
    FOR EACH STATEMENT EXECUTE FUNCTION portfolio_book_tally_apply()
    """,
    """
    CREATE TRIGGER portfolio_book_tally_update AFTER UPDATE ON portfolio_customer
    REFERENCING OLD TABLE AS old_customers NEW TABLE AS new_customers
    FOR EACH STATEMENT EXECUTE FUNCTION portfolio_book_tally_apply()
    """,
    """
    CREATE TRIGGER portfolio_book_tally_delete AFTER DELETE ON portfolio_customer
    REFERENCING OLD TABLE AS old_customers
    FOR EACH STATEMENT EXECUTE FUNCTION portfolio_book_tally_apply()
    """,
    """
    CREATE FUNCTION portfolio_book_tally_empty() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM portfolio_customerbooktally;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER portfolio_book_tally_truncate AFTER TRUNCATE ON portfolio_customer
    FOR EACH STATEMENT EXECUTE FUNCTION portfolio_book_tally_empty()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS portfolio_book_tally_insert ON portfolio_customer",
    "DROP TRIGGER IF EXISTS portfolio_book_tally_update ON portfolio_customer",
    "DROP TRIGGER IF EXISTS portfolio_book_tally_delete ON portfolio_customer",
    "DROP TRIGGER IF EXISTS portfolio_book_tally_truncate ON portfolio_customer",
    "DROP FUNCTION IF EXISTS portfolio_book_tally_apply()",
    "DROP FUNCTION IF EXISTS portfolio_book_tally_empty()",
]
FILL = UPSERT.format(moved=ROWS.format(n=1, rows="portfolio_customer"))


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
        ("portfolio", "0029_review_indexes_by_customer_and_owner"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerBookTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("owner_id", models.BigIntegerField(null=True)),
                ("stage", models.CharField(max_length=16)),
                ("service_model", models.CharField(max_length=8)),
                ("segment", models.CharField(max_length=16)),
                ("health_band", models.CharField(blank=True, max_length=8)),
                ("customers", models.IntegerField(default=0)),
                ("mrr_cents", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "customer book tally",
                "verbose_name_plural": "customer book tallies",
            },
        ),
        # Added on its own, so its index exists when the triggers' fill upserts on it (created with the table, a
        # unique index whose nulls are not distinct is only built when the migration ends).
        migrations.AddConstraint(
            model_name="customerbooktally",
            constraint=models.UniqueConstraint(
                fields=("owner_id", "stage", "service_model", "segment", "health_band"),
                name="portfolio_one_book_tally_cell",
                nulls_distinct=False,
            ),
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
