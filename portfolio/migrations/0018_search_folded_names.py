"""Search matches stored folded names: ``name_folded`` on customers and contacts, kept by the database
(``leme_fold(name)`` on PostgreSQL, ``lower(name)`` on SQLite), and the search indexes of ``0010_search`` rebuilt
on those columns under the same names.

A trigram index only finds candidates: PostgreSQL checks each candidate row again, and with the index on the
expression it folded every candidate's name through ``unaccent`` (about 6 µs a row, ten times ``lower``); a common
first name is thousands of candidates. The stored column is read instead.
"""

from django.db import migrations, models

import core.search
from core.migration_ops import PostgresOnly

# (index, table, method, expression): the name indexes of 0010_search, on the stored column.
INDEXES = [
    ("portfolio_customer_name_fold_trgm", "portfolio_customer", "gin", "name_folded gin_trgm_ops"),
    ("portfolio_customer_name_fold_prefix", "portfolio_customer", "btree", 'name_folded COLLATE "C"'),
    ("portfolio_contact_name_fold_trgm", "portfolio_contact", "gin", "name_folded gin_trgm_ops"),
    ("portfolio_contact_name_fold_prefix", "portfolio_contact", "btree", 'name_folded COLLATE "C"'),
]
BEFORE = {
    "portfolio_customer_name_fold_trgm": "leme_fold(name) gin_trgm_ops",
    "portfolio_customer_name_fold_prefix": 'leme_fold(name) COLLATE "C"',
    "portfolio_contact_name_fold_trgm": "leme_fold(name) gin_trgm_ops",
    "portfolio_contact_name_fold_prefix": 'leme_fold(name) COLLATE "C"',
}


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0017_milestone_templates"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="name_folded",
            field=models.GeneratedField(
                db_persist=True, expression=core.search.Folded("name"), output_field=models.TextField()
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="name_folded",
            field=models.GeneratedField(
                db_persist=True, expression=core.search.Folded("name"), output_field=models.TextField()
            ),
        ),
        *(
            PostgresOnly(
                f"DROP INDEX IF EXISTS {name}; CREATE INDEX {name} ON {table} USING {method} ({expression});",
                f"DROP INDEX IF EXISTS {name}; CREATE INDEX {name} ON {table} USING {method} ({BEFORE[name]});",
            )
            for name, table, method, expression in INDEXES
        ),
    ]
