"""An order charges the shipping quoted when it is created: subtotal + shipping = total, in the
currency's minor units, captured by its payment and repeated by its shipment's rate."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.orders.commands import Actor, CreateOrder, NewOrderLine
from apps.orders.services import OrderService
from apps.payments.commands import SubmitPayment
from apps.payments.services import PaymentService
from apps.shipping.commands import CreateShipment
from apps.shipping.services import ShippingService
from apps.shipping.strategies import StandardShipping

pytestmark = pytest.mark.django_db


def order_of(customer: Any, currency: str, method: str, price: str, quantity: int) -> Any:
    return OrderService().create_order(
        CreateOrder(
            actor=Actor(user_id=customer.pk),
            customer_id=customer.pk,
            currency=currency,
            shipping_method=method,
            items=(NewOrderLine(sku="A", name="A", quantity=quantity, unit_price=Decimal(price)),),
        )
    )


@pytest.mark.parametrize(
    ("method", "currency", "price", "quantity", "subtotal", "shipping", "total"),
    [
        # 2 decimals: 4.90 + 0.50 per extra unit; free from 50.00 of items.
        ("standard", "EUR", "12.50", 2, "25.00", "5.40", "30.40"),
        ("standard", "EUR", "25.00", 2, "50.00", "0.00", "50.00"),
        # Express: 14.90 + 1.50 per extra unit, never free.
        ("express", "EUR", "25.00", 2, "50.00", "16.40", "66.40"),
        # 0 decimals: the rate is rounded half-up to whole yen (5.90 → 6, 14.90 → 15).
        ("standard", "JPY", "10", 3, "30", "6", "36"),
        ("express", "JPY", "10", 1, "10", "15", "25"),
        # 3 decimals.
        ("standard", "KWD", "1.125", 2, "2.250", "5.400", "7.650"),
        ("express", "KWD", "0.500", 3, "1.500", "17.900", "19.400"),
    ],
)
def test_the_total_is_the_items_and_the_shipping_quoted_at_creation(
    customer: Any,
    method: str,
    currency: str,
    price: str,
    quantity: int,
    subtotal: str,
    shipping: str,
    total: str,
) -> None:
    order = order_of(customer, currency, method, price, quantity)
    assert (order.subtotal, order.shipping_total, order.total) == (
        Decimal(subtotal),
        Decimal(shipping),
        Decimal(total),
    )
    payment = PaymentService().submit_payment(
        SubmitPayment(order_id=order.id, actor=Actor(user_id=customer.pk))
    )
    assert (payment.amount, payment.currency) == (Decimal(total), currency)


def test_the_shipment_charges_what_the_order_was_quoted_even_after_the_rates_change(
    customer: Any, settings: Any
) -> None:
    from apps.orders.state_machine import OrderState
    from apps.orders.tests.factories import apply

    order = order_of(customer, "EUR", "standard", "10.00", 1)
    assert order.shipping_total == Decimal("4.90")
    apply(order, OrderState.PAID)
    settings.OMS_SHIPPING_STRATEGIES = {
        **settings.OMS_SHIPPING_STRATEGIES,
        "standard": "tests.integration.test_totals.DearerStandardShipping",
    }
    shipment = ShippingService().create_shipment(
        CreateShipment(order_id=order.id, actor=Actor.system())
    )
    assert shipment is not None
    assert (shipment.rate, shipment.currency) == (Decimal("4.90"), "EUR")


class DearerStandardShipping(StandardShipping):
    base_rate = Decimal("9.90")
