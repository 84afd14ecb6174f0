"""Admin for the event store, the subscriptions' checkpoints and their parked and dead events
(read-only, with a retry action for dead letters)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.events.dead_letters import retry_dead_letters
from apps.events.models import ParkedEvent, ParkedStatus, StoredEvent, SubscriptionCheckpoint
from shared.admin import ReadOnlyAdmin


@admin.register(StoredEvent)
class StoredEventAdmin(ReadOnlyAdmin):
    list_display = (
        "position",
        "sequence",
        "event_type",
        "aggregate_type",
        "aggregate_id",
        "version",
        "occurred_at",
    )
    list_filter = ("event_type", "aggregate_type")
    search_fields = ("aggregate_id", "event_id", "idempotency_key")


@admin.register(SubscriptionCheckpoint)
class SubscriptionCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("subscription", "segment", "position", "updated_at")
    list_filter = ("subscription",)


@admin.register(ParkedEvent)
class ParkedEventAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "subscription",
        "status",
        "attempts",
        "next_attempt_at",
        "event",
        "last_error",
    )
    list_filter = ("status", "subscription")
    search_fields = ("subscription", "last_error")
    list_select_related = ("event",)
    actions = ("retry_selected",)

    @admin.action(description="Retry the selected dead events now")
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[ParkedEvent]) -> None:
        dead_ids = list(queryset.filter(status=ParkedStatus.DEAD).values_list("id", flat=True))
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
