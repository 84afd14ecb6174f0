"""Endpoints in the admin: registered, changed, disabled and re-enabled; their messages and the
log of attempts read-only (redelivery and replay are API operations, with idempotency keys)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.outbound import services
from apps.outbound.models import DeliveryAttempt, OutboundMessage, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "description", "enabled", "failing_since", "disabled_reason")
    list_filter = ("enabled",)
    fields = (
        "url",
        "description",
        "event_types",
        "enabled",
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "previous_secret_expires_at",
        "start_position",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "previous_secret_expires_at",
        "start_position",
        "created_at",
        "updated_at",
    )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Through the services, so the URL is checked and a new endpoint gets its secret and
        # start position (the secret is shown by the API only; rotate there to read one).
        if change:
            services.change(
                obj.id,
                url=obj.url,
                description=obj.description,
                event_types=obj.event_types,
                enabled=obj.enabled,
            )
        else:
            registered = services.register(
                url=obj.url,
                description=obj.description,
                event_types=obj.event_types,
                enabled=obj.enabled,
            )
            obj.pk = registered.endpoint.pk


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("webhook_id", "event_type", "order_id", "sequence", "status", "attempts")
    list_filter = ("status", "event_type")
    search_fields = ("webhook_id", "order_id")


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ("message", "number", "requested_at", "response_status", "duration_ms")
    list_filter = ("response_status",)
