import crm.public_ids
from django.db import migrations, models


class Migration(migrations.Migration):
    """A delivery is named by a public id in the API (`/webhook-endpoints/{id}/deliveries/{id}/resend`)."""

    dependencies = [
        ('crm', '0016_contract_fields'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='public_id',
            field=models.UUIDField(editable=False, null=True, verbose_name='public id'),
        ),
        migrations.RunPython(crm.public_ids.fill_public_ids('crm', 'webhookdelivery'), migrations.RunPython.noop),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='public_id',
            field=models.UUIDField(default=crm.public_ids.new_public_id, editable=False, verbose_name='public id'),
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=models.UniqueConstraint(fields=('tenant', 'public_id'), name='webhook_delivery_public_id_unique'),
        ),
    ]
