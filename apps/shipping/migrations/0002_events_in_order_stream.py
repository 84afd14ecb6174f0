"""Shipment events already stored join their order's stream (partition key = order id)."""

from django.db import migrations

from shared.migrations import move_events_to_order_stream


def to_order_stream(apps, schema_editor):
    move_events_to_order_stream(apps, "shipment")


class Migration(migrations.Migration):
    dependencies = [
        ("shipping", "0001_initial"),
        ("events", "0004_storedevent_partition_key"),
    ]

    operations = [migrations.RunPython(to_order_stream, migrations.RunPython.noop)]
