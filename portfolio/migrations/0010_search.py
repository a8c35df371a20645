"""Search that ignores accents and case (core.search): the unaccent and pg_trgm extensions, the IMMUTABLE
``leme_fold`` wrapper an index may use, and GIN trigram indexes on what the search box looks in.

PostgreSQL only: on SQLite (the embedded run) every step here does nothing and core.search folds case alone.
"""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

from core.migration_ops import PostgresOnly

FOLD = """
CREATE OR REPLACE FUNCTION leme_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
"""
UNFOLD = "DROP FUNCTION IF EXISTS leme_fold(text);"

# (index, table, method, expression). Trigram indexes serve "contains" (three characters or more); a term of two
# characters has no trigram to look up, so names are matched by their start there, on a B-tree in folded byte
# order (COLLATE "C"): it serves LIKE 'ab%' and hands the rows over already sorted, so LIMIT stops early.
INDEXES = [
    ("portfolio_customer_name_fold_trgm", "portfolio_customer", "gin", "leme_fold(name) gin_trgm_ops"),
    ("portfolio_customer_cnpj_trgm", "portfolio_customer", "gin", "cnpj gin_trgm_ops"),
    ("portfolio_customer_name_fold_prefix", "portfolio_customer", "btree", 'leme_fold(name) COLLATE "C"'),
    ("portfolio_contact_name_fold_trgm", "portfolio_contact", "gin", "leme_fold(name) gin_trgm_ops"),
    # Emails have no accents: lower() is enough, and three times cheaper per row than unaccent.
    ("portfolio_contact_email_lower_trgm", "portfolio_contact", "gin", "lower(email) gin_trgm_ops"),
    ("portfolio_contact_name_fold_prefix", "portfolio_contact", "btree", 'leme_fold(name) COLLATE "C"'),
]


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0009_customer_health"),
    ]

    operations = [
        UnaccentExtension(),
        TrigramExtension(),
        PostgresOnly(FOLD, UNFOLD),
        *(
            PostgresOnly(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING {method} ({expression});",
                f"DROP INDEX IF EXISTS {name};",
            )
            for name, table, method, expression in INDEXES
        ),
    ]
