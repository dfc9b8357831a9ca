"""Lead.first_contacted_at: the first contact, stored so the dashboard's year view reads a column instead of the
timeline; backfilled from the timeline (the dashboard's definition, leads/dashboard/figures.py)."""

from django.db import migrations, models
from django.db.models import Min, OuterRef, Q, Subquery

CONTACT_KINDS = ["call", "email", "meeting", "converted"]
CONTACTING_STATUSES = ["contacted", "qualified"]


def backfill(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    Activity = apps.get_model("crm", "Activity")
    firsts = (
        Activity.objects.filter(lead=OuterRef("pk"), occurred_at__gte=OuterRef("created_at"))
        .filter(Q(kind__in=CONTACT_KINDS) | Q(kind="status_changed", data__to__in=CONTACTING_STATUSES))
        .order_by()
        .values("lead")
        .annotate(first=Min("occurred_at"))
        .values("first")
    )
    Lead.objects.filter(first_contacted_at__isnull=True).update(first_contacted_at=Subquery(firsts[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0016_marketing_consent"),
        ("crm", "0018_tenant_enrichment"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="first_contacted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
