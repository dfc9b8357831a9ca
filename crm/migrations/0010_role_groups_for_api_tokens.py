from django.db import migrations


def sync_groups(apps, schema_editor):
    from crm.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("crm", "0009_migrate_drf_tokens")]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
