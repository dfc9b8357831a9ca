from django.db import migrations


def sync_groups(apps, schema_editor):
    from crm.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_scoring_routing_prediction"),
        ("leads", "0003_scoring_routing_prediction"),
    ]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
