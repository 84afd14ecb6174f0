"""Projections are applied in the command's transaction: their outbox rows and checkpoints go.

A projection delivery that had not succeeded before the upgrade is dropped with the rest; its
event was then not applied, which ``verify_event_store`` reports and ``rebuild_projections``
repairs (docs/api.md "Read side: projections, rebuild, verification, statistics" says to run
both when upgrading).
"""

from django.db import migrations


def drop_projection_deliveries(apps, schema_editor):
    Delivery = apps.get_model("events", "Delivery")
    Delivery.objects.filter(handler__startswith="projection.").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_storedevent_position"),
    ]

    operations = [
        migrations.RunPython(drop_projection_deliveries, migrations.RunPython.noop),
        migrations.DeleteModel(name="ProjectionCheckpoint"),
    ]
