"""Stuck orders in the admin, read-only: recovery and the order's own commands move them on."""

from __future__ import annotations

from django.contrib import admin

from apps.recovery.models import StuckOrder
from shared.admin import ReadOnlyAdmin


@admin.register(StuckOrder)
class StuckOrderAdmin(ReadOnlyAdmin):
    list_display = (
        "order_id",
        "state",
        "reason",
        "since",
        "attempts",
        "last_outcome",
        "resolved_at",
    )
    list_filter = ("reason", "state")
    search_fields = ("order_id",)
