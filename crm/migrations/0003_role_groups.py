from django.db import migrations


def create_role_groups(apps, schema_editor):
    from crm.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_initial"),
        ("contacts", "0002_initial"),
        ("leads", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
