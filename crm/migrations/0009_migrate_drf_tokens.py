"""DRF's plaintext tokens (rest_framework.authtoken) become hashed API tokens, then the plaintext goes.

The authtoken app is no longer installed, so its table is read with SQL when it exists (databases
made before this change); a fresh database has none and this does nothing. The emptied table is
left behind: `DROP TABLE authtoken_token;` once no rollback to older code is wanted.
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

DRF_TOKEN_TABLE = "authtoken_token"
MIGRATED_NAME = "Migrated (issued before tokens were hashed)"


def migrate_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if DRF_TOKEN_TABLE not in connection.introspection.table_names():
        return
    api_token = apps.get_model("crm", "ApiToken")
    user_model = apps.get_model("crm", "User")
    now = timezone.now()
    expires_at = now + dt.timedelta(days=settings.API_TOKEN_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {DRF_TOKEN_TABLE}")
        rows = cursor.fetchall()
    tenants = dict(user_model.objects.filter(pk__in=[user_id for _, user_id, _ in rows]).values_list("pk", "tenant_id"))
    api_token.objects.bulk_create(
        api_token(
            tenant_id=tenants[user_id],
            user_id=user_id,
            name=MIGRATED_NAME,
            prefix=key[:8],
            key_hash=hashlib.sha256(key.encode()).hexdigest(),  # crm.tokens.hash_secret, frozen here
            created_at=_aware(created) or now,
            expires_at=expires_at,
        )
        for key, user_id, created in rows
        # A user without a workspace (a platform superuser) could not use the API with it anyway.
        if tenants.get(user_id) is not None
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DRF_TOKEN_TABLE}")


def _aware(value):
    """SQLite hands back DRF's `created` as a naive UTC datetime, PostgreSQL as an aware one."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.timezone.utc)
    return value


class Migration(migrations.Migration):
    dependencies = [("crm", "0008_api_token")]

    # Not reversible: the plaintext is gone, which is the point.
    operations = [migrations.RunPython(migrate_drf_tokens, migrations.RunPython.noop)]
