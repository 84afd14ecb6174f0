"""Commands of the payment service: what a caller asks it to do. One command, one method,
one transaction (the style of ``apps/orders/commands.py``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from apps.orders.commands import Actor
from shared.money import Money


@dataclass(frozen=True, kw_only=True)
class PaymentCommand:
    """Base of the payment commands: who asks, and the key its events carry."""

    actor: Actor
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class ForOrder(PaymentCommand):
    """A command about the payment of one order, named by the order."""

    order_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class FromProvider(PaymentCommand):
    """A report of the provider, about the payment it knows by ``provider_reference``."""

    provider_reference: str


@dataclass(frozen=True, kw_only=True)
class RequestPayment(ForOrder):
    """Request the order's payment (if it has none and is still pending)."""


@dataclass(frozen=True, kw_only=True)
class SubmitPayment(ForOrder):
    """Hand the order's payment to the provider."""


@dataclass(frozen=True, kw_only=True)
class RefundPayment(ForOrder):
    """Give back whatever of a settled payment is not refunded yet."""

    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RefundLine:
    """``quantity`` units of the order's line ``sku`` given back."""

    sku: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class RequestRefund(ForOrder):
    """Give part of a paid order's money back: ``amount``, or ``lines`` (exactly one)."""

    amount: Decimal | None = None
    lines: tuple[RefundLine, ...] = ()
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class VoidPayment(ForOrder):
    """Cancel a payment before any money moved."""

    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ReleaseCancelledOrderPayment(ForOrder):
    """Refund or void a cancelled order's payment."""

    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordPaymentResult(FromProvider):
    """The provider's answer to a payment: success or decline; ``reported``, the amount it
    says it took, must be the payment's own."""

    succeeded: bool
    reason: str = ""
    reported: Money | None = None


@dataclass(frozen=True, kw_only=True)
class AuthorizePayment(FromProvider):
    """The customer approved the payment at the provider (wallet)."""


@dataclass(frozen=True, kw_only=True)
class RecordRefund(FromProvider):
    """The provider reports the payment's money given back, all of it (``payment.refunded``)."""

    refund_reference: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordRefundResult(FromProvider):
    """The provider's outcome of one refund (``refund.succeeded`` / ``refund.failed``); a
    success for a refund we never asked for is one made at the provider, of ``reported``."""

    refund_reference: str
    succeeded: bool
    reason: str = ""
    reported: Money | None = None
