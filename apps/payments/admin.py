"""Admin for payments: read-only, because every change must go through the payment service."""

from __future__ import annotations

from django.contrib import admin

from apps.payments.models import Payment, Refund
from shared.admin import AmountsInCurrencyAdmin


@admin.register(Payment)
class PaymentAdmin(AmountsInCurrencyAdmin):
    amount_fields = ("amount", "amount_refunded", "amount_refund_pending")
    list_display = ("id", "order_id", "method", "status", "amount", "amount_refunded", "updated_at")
    list_filter = ("method", "status", "currency")
    search_fields = ("id", "order_id", "provider_reference")


@admin.register(Refund)
class RefundAdmin(AmountsInCurrencyAdmin):
    amount_fields = ("amount",)
    list_display = ("id", "order_id", "amount", "status", "provider_reference", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("provider_reference", "order_id")
