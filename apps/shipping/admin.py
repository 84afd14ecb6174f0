"""Admin for shipments: read-only, because every change must go through the shipping service."""

from __future__ import annotations

from django.contrib import admin

from apps.shipping.models import Shipment
from shared.admin import AmountsInCurrencyAdmin


@admin.register(Shipment)
class ShipmentAdmin(AmountsInCurrencyAdmin):
    amount_fields = ("rate",)
    list_display = (
        "id",
        "order_id",
        "carrier",
        "service_level",
        "status",
        "rate",
        "tracking_number",
    )
    list_filter = ("carrier", "service_level", "status")
    search_fields = ("id", "order_id", "tracking_number")
