"""Admin for webhooks: read-only, the log is an audit trail and the outbox belongs to the sender."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.webhooks.models import SimulatedWebhook, WebhookLog


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
