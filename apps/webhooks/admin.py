"""Admin for webhooks: read-only, the log is an audit trail and the outbox belongs to the sender."""

from __future__ import annotations

from django.contrib import admin

from apps.webhooks.models import SimulatedWebhook, WebhookLog
from shared.admin import ReadOnlyAdmin


@admin.register(WebhookLog)
class WebhookLogAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "provider",
        "message_type",
        "webhook_id",
        "outcome",
        "signature_valid",
        "order_id",
    )
    list_filter = ("provider", "outcome", "message_type", "signature_valid")
    search_fields = ("webhook_id", "order_id")


@admin.register(SimulatedWebhook)
class SimulatedWebhookAdmin(ReadOnlyAdmin):
    list_display = (
        "send_at",
        "provider",
        "message_type",
        "webhook_id",
        "copy",
        "attempts",
        "sent_at",
        "last_status",
    )
    list_filter = ("provider", "message_type", "last_status")
    search_fields = ("webhook_id", "order_id")
