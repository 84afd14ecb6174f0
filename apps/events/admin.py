"""Admin for the event store (read-only) and the outbox, with a retry action for dead letters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.events.models import Delivery, DeliveryStatus, StoredEvent
from apps.events.services import retry_dead_letters
from shared.admin import ReadOnlyAdmin


@admin.register(StoredEvent)
class StoredEventAdmin(ReadOnlyAdmin):
    list_display = (
        "sequence",
        "event_type",
        "aggregate_type",
        "aggregate_id",
        "version",
        "occurred_at",
    )
    list_filter = ("event_type", "aggregate_type")
    search_fields = ("aggregate_id", "event_id", "idempotency_key")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "handler", "status", "attempts", "next_attempt_at", "event", "last_error")
    list_filter = ("status", "handler")
    search_fields = ("handler", "last_error")
    list_select_related = ("event",)
    actions = ("retry_selected",)

    @admin.action(description="Retry the selected dead deliveries now")
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        dead_ids = list(queryset.filter(status=DeliveryStatus.DEAD).values_list("id", flat=True))
        counts = retry_dead_letters(ids=dead_ids)
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
        self.message_user(
            request, f"Retried {len(dead_ids)}: {summary or 'nothing to do'}.", messages.INFO
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Django hides actions from users without change permission; operators need this one.
        actions = super().get_actions(request)
        if request.user.is_staff:
            actions.setdefault("retry_selected", self.get_action("retry_selected"))
        return actions
