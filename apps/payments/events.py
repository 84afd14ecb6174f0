"""The events of the payment aggregate. Every status change of a payment is one of these.

Each carries the ``order_id`` it pays for, so that the order's read side can follow its payment
without importing this app.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from apps.events.base import DomainEvent

PAYMENT_AGGREGATE = "payment"


@dataclass(frozen=True, kw_only=True)
class PaymentEvent(DomainEvent):
    aggregate_type: ClassVar[str] = PAYMENT_AGGREGATE

    order_id: uuid.UUID

    def partition_key(self) -> uuid.UUID:
        return self.order_id


@dataclass(frozen=True, kw_only=True)
class PaymentRequested(PaymentEvent):
    event_type: ClassVar[str] = "PaymentRequested"

    method: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, kw_only=True)
class PaymentSubmitted(PaymentEvent):
    """The provider has the payment; what the customer does next depends on the method."""

    event_type: ClassVar[str] = "PaymentSubmitted"

    method: str
    provider_reference: str
    approval_url: str = ""
    instructions: dict[str, str] | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentAuthorized(PaymentEvent):
    """The customer approved a wallet payment; the capture follows."""

    event_type: ClassVar[str] = "PaymentAuthorized"

    provider_reference: str


@dataclass(frozen=True, kw_only=True)
class PaymentSucceeded(PaymentEvent):
    event_type: ClassVar[str] = "PaymentSucceeded"

    provider_reference: str
    amount: Decimal
    currency: str
    # True when the money arrived after the payment had been voided or had expired.
    late: bool = False


@dataclass(frozen=True, kw_only=True)
class PaymentDeclined(PaymentEvent):
    event_type: ClassVar[str] = "PaymentDeclined"

    provider_reference: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentExpired(PaymentEvent):
    event_type: ClassVar[str] = "PaymentExpired"

    provider_reference: str
    expires_at: datetime
    reason: str = "expired"


@dataclass(frozen=True, kw_only=True)
class RefundRequested(PaymentEvent):
    """Money asked back: an amount, or ``lines`` (sku, quantity, amount) of the order."""

    event_type: ClassVar[str] = "RefundRequested"

    refund_id: uuid.UUID
    refund_reference: str
    amount: Decimal
    currency: str
    lines: list[dict[str, Any]]
    reason: str


@dataclass(frozen=True, kw_only=True)
class RefundSucceeded(PaymentEvent):
    """The provider gave the money back. ``refunded_total``: the payment's, this one included."""

    event_type: ClassVar[str] = "RefundSucceeded"

    refund_id: uuid.UUID
    refund_reference: str
    amount: Decimal
    currency: str
    refunded_total: Decimal
    # True for a refund made at the provider that we never asked for.
    initiated_by_provider: bool = False
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RefundFailed(PaymentEvent):
    """The provider refused the refund; its amount may be asked back again."""

    event_type: ClassVar[str] = "RefundFailed"

    refund_id: uuid.UUID
    refund_reference: str
    amount: Decimal
    currency: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentRefunded(PaymentEvent):
    """All of the payment's money is back (after the ``RefundSucceeded`` that completed it).

    Written before refunds were a ledger, it was the one refund of a payment, with no
    ``RefundSucceeded`` before it: ``amount`` is the payment's, ``refund_id`` that refund's.
    """

    event_type: ClassVar[str] = "PaymentRefunded"

    refund_id: uuid.UUID
    refund_reference: str
    amount: Decimal
    currency: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentVoided(PaymentEvent):
    event_type: ClassVar[str] = "PaymentVoided"

    reason: str
