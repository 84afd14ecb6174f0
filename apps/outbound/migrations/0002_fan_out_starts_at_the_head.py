"""The fan-out subscription of an existing deployment starts at the head of the log.

A subscription seen for the first time reads the log from its beginning; for the fan-out that
would be a pass over the whole history that writes nothing (every endpoint starts at the head
when it is registered) while it makes the service look far behind (``/readyz``, lag metrics).
"""

from django.conf import settings
from django.db import migrations
from django.db.models import Max
from django.utils import timezone

FAN_OUT = "outbound.fan_out"


def start_at_the_head(apps, schema_editor):
    stored_event = apps.get_model("events", "StoredEvent")
    checkpoint = apps.get_model("events", "SubscriptionCheckpoint")
    head = stored_event.objects.aggregate(head=Max("position"))["head"] or 0
    now = timezone.now()
    for segment in range(settings.OMS_SUBSCRIPTION_SEGMENTS):
        checkpoint.objects.get_or_create(
            subscription=FAN_OUT, segment=segment, defaults={"position": head, "updated_at": now}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("outbound", "0001_webhook_endpoints_and_messages"),
        ("events", "0007_subscriptions_replace_the_outbox"),
    ]

    operations = [migrations.RunPython(start_at_the_head, migrations.RunPython.noop)]
