"""Indexes for the admin lead list on a million leads.

The orderings (newest first, ties by id) come straight from an index overall, per status and per
owner. Search: on PostgreSQL a trigram index over the searched fields as one expression (the one
leads/admin_search.py filters on), so `icontains` does not read every row; SQLite has no pg_trgm
and searches without it.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

SEARCH_INDEX = "lead_search_trgm_idx"
SEARCH_EXPRESSION = "UPPER((first_name || ' ' || last_name || ' ' || email || ' ' || company || ' ' || phone))"


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON leads_lead USING gin (({SEARCH_EXPRESSION}) gin_trgm_ops)"
    )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0004_importjob"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="lead", name="lead_tenant_status_created_idx"),
        migrations.RemoveIndex(model_name="lead", name="lead_tenant_created_idx"),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["tenant", "status", "-created_at", "-id"], name="lead_tenant_status_recent_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["tenant", "owner", "-created_at", "-id"], name="lead_tenant_owner_recent_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["tenant", "-created_at", "-id"], name="lead_tenant_recent_idx"),
        ),
        TrigramExtension(),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
