"""Admin for idempotency records: read-only, but an operator may delete one to free its key."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.idempotency.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "owner", "scope", "response_status", "created_at", "expires_at")
    list_filter = ("response_status",)
    search_fields = ("key", "owner", "scope")
    # A stored answer can hold what its request was to show once (a webhook endpoint's secret):
    # it is kept for replays to the same caller, not for browsing.
    exclude = ("response_body", "response_headers")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
