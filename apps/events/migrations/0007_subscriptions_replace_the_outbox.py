"""Subscriptions read the log from checkpoints; the outbox (one row per event and handler) goes.

Upgrading keeps every obligation: a delivery that was pending or retrying becomes a parked event
of its subscription (due now, its attempts kept), a dead one a dead letter; every subscription's
checkpoints start at the head of the log, which the old deliveries already covered. Commits that
append events now also ``NOTIFY oms_log`` on PostgreSQL, to wake the embedded workers.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

BUCKETS = 1024
BATCH = 1000
NOTIFYING_FUNCTION = """
CREATE OR REPLACE FUNCTION events_number_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7301190001);
    UPDATE events_storedevent
       SET position = nextval('events_storedevent_position_seq')
     WHERE sequence = NEW.sequence;
    PERFORM pg_notify('oms_log', '');
    RETURN NULL;
END
$$;
"""
SILENT_FUNCTION = NOTIFYING_FUNCTION.replace("    PERFORM pg_notify('oms_log', '');\n", "")


def fill_buckets(apps, schema_editor):
    StoredEvent = apps.get_model("events", "StoredEvent")
    batch = []
    for row in StoredEvent.objects.only("sequence", "partition_key").iterator(chunk_size=BATCH):
        row.bucket = row.partition_key.int % BUCKETS
        batch.append(row)
        if len(batch) >= BATCH:
            StoredEvent.objects.bulk_update(batch, ["bucket"])
            batch = []
    if batch:
        StoredEvent.objects.bulk_update(batch, ["bucket"])


def deliveries_to_parked_events(apps, schema_editor):
    from django.conf import settings

    from apps.events.registry import registry

    Delivery = apps.get_model("events", "Delivery")
    ParkedEvent = apps.get_model("events", "ParkedEvent")
    Checkpoint = apps.get_model("events", "SubscriptionCheckpoint")
    StoredEvent = apps.get_model("events", "StoredEvent")
    now = timezone.now()
    open_deliveries = Delivery.objects.exclude(status="succeeded").select_related("event")
    parked = []
    for delivery in open_deliveries.iterator(chunk_size=BATCH):
        event = delivery.event
        dead = delivery.status == "dead"
        parked.append(
            ParkedEvent(
                subscription=delivery.handler,
                event=event,
                bucket=event.bucket,
                partition_key=event.partition_key,
                position=event.position or event.sequence,
                status="dead" if dead else "parked",
                attempts=delivery.attempts,
                next_attempt_at=now,
                last_error=delivery.last_error,
                last_traceback=delivery.last_traceback,
                created_at=delivery.created_at,
                updated_at=now,
                dead_at=delivery.dead_at,
            )
        )
    ParkedEvent.objects.bulk_create(parked, batch_size=BATCH, ignore_conflicts=True)
    head = StoredEvent.objects.aggregate(head=models.Max("position"))["head"] or 0
    names = set(registry.names()) | set(Delivery.objects.values_list("handler", flat=True))
    Checkpoint.objects.bulk_create(
        [
            Checkpoint(subscription=name, segment=segment, position=head, updated_at=now)
            for name in sorted(names)
            for segment in range(settings.OMS_SUBSCRIPTION_SEGMENTS)
        ],
        ignore_conflicts=True,
    )


# SQLite rebuilds a table to add a column with a default, and triggers go with the old table:
# the position trigger of migration 0005 is created again (any later migration that rebuilds
# events_storedevent on SQLite must do the same).
SQLITE_POSITION_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS events_position_on_insert AFTER INSERT ON events_storedevent
FOR EACH ROW WHEN NEW.position IS NULL
BEGIN
    UPDATE events_storedevent SET position = NEW.sequence WHERE sequence = NEW.sequence;
END;
"""


def restore_sqlite_position_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_POSITION_TRIGGER)


def notify_on_commit(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(NOTIFYING_FUNCTION)


def stop_notifying(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(SILENT_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0006_projections_in_the_command"),
    ]

    operations = [
        migrations.AddField(
            model_name="storedevent",
            name="bucket",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="ParkedEvent",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("subscription", models.CharField(max_length=200)),
                ("bucket", models.PositiveSmallIntegerField()),
                ("partition_key", models.UUIDField()),
                ("position", models.BigIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("parked", "Parked (retried when due)"),
                            ("dead", "Dead (waits for an operator)"),
                            ("resolved", "Resolved by an operator's retry"),
                        ],
                        default="parked",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField()),
                ("last_error", models.TextField(blank=True, default="")),
                ("last_traceback", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                ("dead_at", models.DateTimeField(blank=True, null=True)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "event",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="parked",
                        to="events.storedevent",
                    ),
                ),
            ],
            options={
                "ordering": ("position",),
            },
        ),
        migrations.CreateModel(
            name="SubscriptionCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("subscription", models.CharField(max_length=200)),
                ("segment", models.PositiveSmallIntegerField()),
                ("position", models.BigIntegerField(default=0)),
                ("updated_at", models.DateTimeField()),
                ("dispatched_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ("subscription", "segment"),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("subscription", "segment"), name="checkpoint_unique_segment"
                    )
                ],
            },
        ),
        migrations.RunPython(restore_sqlite_position_trigger, migrations.RunPython.noop),
        migrations.RunPython(fill_buckets, migrations.RunPython.noop),
        migrations.RunPython(deliveries_to_parked_events, migrations.RunPython.noop),
        migrations.RunPython(notify_on_commit, stop_notifying),
        migrations.DeleteModel(
            name="Delivery",
        ),
        migrations.AddIndex(
            model_name="parkedevent",
            index=models.Index(
                fields=["subscription", "status", "next_attempt_at"], name="parked_due_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="parkedevent",
            index=models.Index(fields=["status", "subscription"], name="parked_status_idx"),
        ),
        migrations.AddConstraint(
            model_name="parkedevent",
            constraint=models.UniqueConstraint(
                fields=("subscription", "event"), name="parked_unique_subscription_event"
            ),
        ),
    ]
