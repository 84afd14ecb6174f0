"""The orders the benchmark creates: the same shape at every level (service, HTTP, peer)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def item_dicts(count: int) -> list[dict[str, Any]]:
    return [
        {"sku": f"SKU-{i}", "name": f"Item {i}", "quantity": 1 + i % 3, "unit_price": "12.50"}
        for i in range(count)
    ]


def order_body(items: int) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/orders/``."""
    return {
        "currency": "EUR",
        "payment_method": "card",
        "shipping_method": "standard",
        "items": item_dicts(items),
    }


def create_command(customer_id: int, items: int) -> Any:
    from apps.orders.commands import Actor, CreateOrder, NewOrderLine

    return CreateOrder(
        actor=Actor(user_id=customer_id),
        customer_id=customer_id,
        currency="EUR",
        items=tuple(
            NewOrderLine(
                sku=item["sku"],
                name=item["name"],
                quantity=item["quantity"],
                unit_price=Decimal(item["unit_price"]),
            )
            for item in item_dicts(items)
        ),
        payment_method="card",
        shipping_method="standard",
    )
