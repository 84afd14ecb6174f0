"""The log's commit-ordered position.

``sequence`` is taken when a row is inserted, so on PostgreSQL a transaction that inserted
sequence 41 can commit after one that inserted 42: a reader that had already moved past 42 would
never see 41. ``position`` is given at COMMIT instead, one transaction at a time, so positions
become visible in increasing order and ``position > last seen`` never skips an event.

PostgreSQL: a deferred constraint trigger runs as the transaction commits; it takes a
transaction-level advisory lock (released only once the commit is visible) and numbers the
transaction's events from a sequence. Only the moment of commit is serialised, not the
transaction: a long transaction holds nobody back until it commits. SQLite has one writer at a
time, so the insert order is the commit order and ``position`` is the ``sequence``.
"""

from django.db import migrations, models

# Arbitrary, fixed: the advisory lock that orders the log's commits.
POSITION_LOCK = 7_301_190_001

POSTGRESQL = f"""
CREATE SEQUENCE events_storedevent_position_seq;
SELECT setval(
    'events_storedevent_position_seq',
    COALESCE((SELECT MAX(position) FROM events_storedevent), 0) + 1,
    false
);
CREATE FUNCTION events_number_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({POSITION_LOCK});
    UPDATE events_storedevent
       SET position = nextval('events_storedevent_position_seq')
     WHERE sequence = NEW.sequence;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER events_position_at_commit
    AFTER INSERT ON events_storedevent
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION events_number_at_commit();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS events_position_at_commit ON events_storedevent;
DROP FUNCTION IF EXISTS events_number_at_commit();
DROP SEQUENCE IF EXISTS events_storedevent_position_seq;
"""
SQLITE = """
CREATE TRIGGER events_position_on_insert AFTER INSERT ON events_storedevent
FOR EACH ROW WHEN NEW.position IS NULL
BEGIN
    UPDATE events_storedevent SET position = NEW.sequence WHERE sequence = NEW.sequence;
END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS events_position_on_insert;"


def existing_rows_in_sequence_order(apps, schema_editor):
    StoredEvent = apps.get_model("events", "StoredEvent")
    StoredEvent.objects.update(position=models.F("sequence"))


def number_new_rows(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    script = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(vendor)
    if script is None:
        raise RuntimeError(f"no commit-ordered position for the {vendor} database")
    if vendor == "sqlite":
        schema_editor.execute(script)
    else:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(script)


def stop_numbering(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    script = {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}[vendor]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(script)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_storedevent_partition_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="storedevent",
            name="position",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.RunPython(existing_rows_in_sequence_order, migrations.RunPython.noop),
        migrations.RunPython(number_new_rows, stop_numbering),
    ]
