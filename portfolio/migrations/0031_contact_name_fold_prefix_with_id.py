"""The contacts' B-tree on ``name_folded COLLATE "C"`` carries the id too, so it gives the contacts in the search's
order (``portfolio.selectors.search``: name folded, then id) from the index alone: the first contacts whose name
starts with a term, and the contact a leader's suggestions stop looking at, without reading rows."""

from django.db import migrations

from core.migration_ops import PostgresOnly


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0030_customer_book_tally"),
    ]

    operations = [
        PostgresOnly(
            "DROP INDEX IF EXISTS portfolio_contact_name_fold_prefix; "
            'CREATE INDEX portfolio_contact_name_fold_prefix ON portfolio_contact (name_folded COLLATE "C", id);',
            "DROP INDEX IF EXISTS portfolio_contact_name_fold_prefix; "
            'CREATE INDEX portfolio_contact_name_fold_prefix ON portfolio_contact (name_folded COLLATE "C");',
        ),
    ]
