"""Commands of the payment service: what a caller asks it to do. One command, one method,
one transaction (the style of ``apps/orders/commands.py``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from apps.orders.commands import Actor
from shared.money import Money


@dataclass(frozen=True, kw_only=True)
class RequestPayment:
    """Request the order's payment (if it has none and is still pending)."""

    actor: Actor
    order_id: uuid.UUID
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class SubmitPayment:
    """Hand the order's payment to the provider."""

    actor: Actor
    order_id: uuid.UUID
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordPaymentResult:
    """The provider's answer to a payment: success or decline."""

    actor: Actor
    provider_reference: str
    succeeded: bool
    reason: str = ""
    reported: Money | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class AuthorizePayment:
    """The customer approved the payment at the provider (wallet)."""

    actor: Actor
    provider_reference: str
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class RefundPayment:
    """Give a settled payment's money back."""

    actor: Actor
    order_id: uuid.UUID
    reason: str = ""
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class VoidPayment:
    """Cancel a payment before any money moved."""

    actor: Actor
    order_id: uuid.UUID
    reason: str = ""
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordRefund:
    """The provider reports the payment's money given back."""

    actor: Actor
    provider_reference: str
    refund_reference: str
    reason: str = ""
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReleaseCancelledOrderPayment:
    """Refund or void a cancelled order's payment."""

    actor: Actor
    order_id: uuid.UUID
    reason: str = ""
