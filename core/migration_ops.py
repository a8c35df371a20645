"""Operations Leme's migrations share."""

from django.db import migrations


class PostgresOnly(migrations.RunSQL):
    """Raw SQL that runs on PostgreSQL and is skipped elsewhere (the embedded SQLite has neither the extensions, nor
    GIN indexes, nor collations such as ``"C"`` on an expression)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
