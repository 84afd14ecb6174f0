"""Commands: what a caller asks the order service to do. One command, one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who issues a command: a user (customer or staff) or the system itself (handlers)."""

    user_id: int | None
    is_staff: bool = False

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, is_staff=True)

    @property
    def label(self) -> str:
        if self.user_id is None:
            return "system"
        return f"{'staff' if self.is_staff else 'customer'}:{self.user_id}"


@dataclass(frozen=True, kw_only=True)
class NewOrderLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, kw_only=True)
class CreateOrder:
    actor: Actor
    customer_id: int
    currency: str
    items: tuple[NewOrderLine, ...]
    payment_method: str = "card"
    shipping_method: str = "standard"
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderCommand:
    """Base of the commands that act on an existing order."""

    actor: Actor
    order_id: uuid.UUID
    idempotency_key: str | None = None
    # Optimistic concurrency: when set, the command fails with ConcurrencyConflict unless the
    # order is still at this version (clients send it as If-Match).
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class ConfirmPayment(OrderCommand):
    payment_reference: str = ""


@dataclass(frozen=True, kw_only=True)
class FailPayment(OrderCommand):
    reason: str


@dataclass(frozen=True, kw_only=True)
class CancelOrder(OrderCommand):
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class StartProcessing(OrderCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class MarkShipped(OrderCommand):
    carrier: str
    tracking_number: str


@dataclass(frozen=True, kw_only=True)
class MarkDelivered(OrderCommand):
    pass
