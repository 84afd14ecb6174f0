"""The events of the order aggregate. Every state change of an order is one of these."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from apps.events.base import DomainEvent

ORDER_AGGREGATE = "order"


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, kw_only=True)
class OrderEvent(DomainEvent):
    aggregate_type: ClassVar[str] = ORDER_AGGREGATE


@dataclass(frozen=True, kw_only=True)
class OrderTransitionEvent(OrderEvent):
    """An event that moves the order from one state to another."""

    from_state: str
    to_state: str


@dataclass(frozen=True, kw_only=True)
class OrderCreated(OrderEvent):
    event_type: ClassVar[str] = "OrderCreated"

    customer_id: int
    currency: str
    total: Decimal
    items: list[OrderLine]
    state: str
    payment_method: str
    shipping_method: str
    # None in events written before shipping was charged: the total was the lines alone.
    subtotal: Decimal | None = None
    shipping_total: Decimal | None = None

    @property
    def parts(self) -> tuple[Decimal, Decimal]:
        """``(subtotal, shipping_total)``, for old events too."""
        if self.subtotal is None or self.shipping_total is None:
            return self.total, Decimal(0)
        return self.subtotal, self.shipping_total


@dataclass(frozen=True, kw_only=True)
class OrderPaid(OrderTransitionEvent):
    event_type: ClassVar[str] = "OrderPaid"

    amount: Decimal
    currency: str
    payment_reference: str


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(OrderTransitionEvent):
    event_type: ClassVar[str] = "PaymentFailed"

    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderTransitionEvent):
    event_type: ClassVar[str] = "OrderCancelled"

    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderProcessingStarted(OrderTransitionEvent):
    event_type: ClassVar[str] = "OrderProcessingStarted"


@dataclass(frozen=True, kw_only=True)
class OrderShipped(OrderTransitionEvent):
    event_type: ClassVar[str] = "OrderShipped"

    carrier: str
    tracking_number: str


@dataclass(frozen=True, kw_only=True)
class OrderDelivered(OrderTransitionEvent):
    event_type: ClassVar[str] = "OrderDelivered"


TRANSITION_EVENT_TYPES = frozenset(
    cls.event_type
    for cls in (
        OrderPaid,
        PaymentFailed,
        OrderCancelled,
        OrderProcessingStarted,
        OrderShipped,
        OrderDelivered,
    )
)
