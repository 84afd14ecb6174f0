"""Admin for orders: read-only, because every change must go through the state machine."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join

from apps.orders.models import Order, OrderItem
from apps.orders.queries import order_timeline
from shared.admin import AmountsInCurrencyAdmin
from shared.money import format_amount


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ("position", "sku", "name", "quantity", "unit_price_in_currency")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="unit price")
    def unit_price_in_currency(self, item: OrderItem) -> str:
        return format_amount(item.unit_price, item.order.currency)


@admin.register(Order)
class OrderAdmin(AmountsInCurrencyAdmin):
    amount_fields = ("total",)
    list_display = ("id", "customer", "state", "total", "version", "created_at")
    list_filter = ("state", "currency", "payment_method", "shipping_method")
    search_fields = ("id", "customer__username")
    date_hierarchy = "created_at"
    inlines = (OrderItemInline,)
    fields = (
        "id",
        "customer",
        "state",
        "total",
        "payment_method",
        "shipping_method",
        "version",
        "created_at",
        "updated_at",
        "event_log",
    )
    readonly_fields = ("event_log",)

    @admin.display(description="Events")
    def event_log(self, order: Order) -> str:
        rows = (
            (
                event.sequence,
                event.aggregate_type,
                event.version,
                event.event_type,
                event.occurred_at,
                event.metadata.get("user_id"),
            )
            for event in order_timeline(order.id)
        )
        return format_html_join("\n", "<div>#{} · {} v{} · <b>{}</b> · {} · user {}</div>", rows)
