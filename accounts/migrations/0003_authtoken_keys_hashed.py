"""DRF's plain-text tokens (``authtoken_token``) become hashed ApiTokens, so integrations that send one keep
working; then the plain-text table is dropped, keys and all. ``rest_framework.authtoken`` is no longer installed,
so its table is read with SQL when it exists (a new database never had it)."""

import hashlib

from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def hash_old_keys(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {OLD_TABLE}")  # noqa: S608 - a fixed table name
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="API token",
            prefix=key[:8],
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            scope="full",
            created_at=created or timezone.now(),
        )
        for key, user_id, created in rows
    )
    schema_editor.execute(f"DROP TABLE {OLD_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_api_tokens")]

    operations = [migrations.RunPython(hash_old_keys, migrations.RunPython.noop)]
