"""Endpoints in the admin: registered, changed, disabled and re-enabled; their messages and the
log of attempts read-only (redelivery and replay are API operations, with idempotency keys)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from apps.outbound import services
from apps.outbound.addresses import check_endpoint_url
from apps.outbound.models import DeliveryAttempt, OutboundMessage, WebhookEndpoint
from apps.outbound.names import public_names
from shared.exceptions import DomainError


class WebhookEndpointForm(forms.ModelForm):
    """Refuses what the services would (a private address, an unknown event name) as form
    errors, before anything is saved."""

    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "event_types", "enabled")

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            check_endpoint_url(url)
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from None
        return url

    def clean_event_types(self) -> list[str]:
        names = self.cleaned_data.get("event_types") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise forms.ValidationError('A list of event names, e.g. ["order.paid"].')
        unknown = sorted(set(names) - set(public_names()))
        if unknown:
            raise forms.ValidationError(
                f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(public_names())}."
            )
        return names


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "description", "enabled", "failing_since", "disabled_reason")
    list_filter = ("enabled",)
    # What staff set (the form's fields), then what the service keeps (shown, not editable).
    readonly_fields = (
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "previous_secret_expires_at",
        "start_position",
        "created_at",
        "updated_at",
    )
    fields = (*WebhookEndpointForm.Meta.fields, *readonly_fields)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Through the services, so a new endpoint gets its secret (shown once, here) and its
        # start position.
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
            self.message_user(
                request,
                f"Signing secret of {obj.url} (shown now only): {registered.secret}",
                messages.WARNING,
            )


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
