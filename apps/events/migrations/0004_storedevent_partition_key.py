"""Every event gets the partition key of its stream.

Existing rows start as their own aggregate's stream (the default of ``DomainEvent.partition_key``);
apps whose events belong to another aggregate's stream move them in their own migrations.
"""

from django.db import migrations, models


def own_aggregate(apps, schema_editor):
    StoredEvent = apps.get_model("events", "StoredEvent")
    StoredEvent.objects.update(partition_key=models.F("aggregate_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0003_delivery_dispatched_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="storedevent",
            name="partition_key",
            field=models.UUIDField(null=True),
        ),
        migrations.RunPython(own_aggregate, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="storedevent",
            name="partition_key",
            field=models.UUIDField(),
        ),
        migrations.AddIndex(
            model_name="storedevent",
            index=models.Index(
                fields=("partition_key", "sequence"), name="event_partition_seq_idx"
            ),
        ),
    ]
