"""Payment strategies: how each payment method talks to the provider.

* **card**: submitting starts the charge; the provider answers later (success or decline).
* **wallet**: redirect-style, two steps. Submitting opens a session and returns the approval URL
  the customer is sent to; once they approve it, ``authorize`` captures the money.
* **bank transfer**: submitting returns payment instructions; the money arrives days later, or
  the payment expires after ``OMS_BANK_TRANSFER_EXPIRY_DAYS`` and the order fails.

Strategies are looked up by method name in ``OMS_PAYMENT_STRATEGIES``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from apps.payments.errors import PaymentStepNotSupported
from apps.payments.models import Payment
from apps.payments.provider import (
    CaptureResult,
    PaymentProvider,
    RefundSubmission,
    payment_provider,
)
from apps.payments.state_machine import PaymentStatus
from shared.money import Money


@dataclass(frozen=True)
class Submission:
    """What submitting a payment produced: the reference and what the customer does next."""

    provider_reference: str
    approval_url: str = ""
    instructions: dict[str, str] | None = None
    expires_at: datetime | None = None


class PaymentStrategy(Protocol):
    method: ClassVar[str]
    # Whether the customer authorizes the payment at the provider before it is captured.
    needs_authorization: ClassVar[bool]

    def submit(self, payment: Payment, *, now: datetime) -> Submission:
        """Hand the payment to the provider."""
        ...

    def capture(self, payment: Payment) -> CaptureResult:
        """Take the money once the customer authorized it (methods with that step only)."""
        ...

    def accepts_result(self, status: PaymentStatus, *, succeeded: bool) -> bool:
        """Whether the provider's asynchronous answer may arrive while the payment is ``status``."""
        ...

    def refund(self, payment: Payment, *, amount: Money, refund_id: uuid.UUID) -> RefundSubmission:
        """Give ``amount`` of a settled payment back: the provider's reference and answer."""
        ...

    def void(self, payment: Payment) -> None:
        """Cancel a payment on which no money has moved."""
        ...


def money_of(payment: Payment) -> Money:
    return Money.of(payment.amount, payment.currency)


class ProviderStrategy:
    """What the strategies share: the provider client, refunds and voids."""

    method: ClassVar[str]
    needs_authorization: ClassVar[bool] = False

    def __init__(self, provider: PaymentProvider) -> None:
        self.provider = provider

    def capture(self, payment: Payment) -> CaptureResult:
        raise PaymentStepNotSupported(
            f"A {self.method} payment has no authorization step.", method=self.method
        )

    def accepts_result(self, status: PaymentStatus, *, succeeded: bool) -> bool:
        return status == PaymentStatus.SUBMITTED

    def refund(self, payment: Payment, *, amount: Money, refund_id: uuid.UUID) -> RefundSubmission:
        assert payment.provider_reference, "only a payment the provider knows can be refunded"
        return self.provider.refund(
            reference=payment.provider_reference,
            amount=amount,
            # Per refund: asking again for the same refund never pays out twice, while a second
            # refund of the same payment is a refund of its own.
            idempotency_key=f"refund:{refund_id}",
        )

    def void(self, payment: Payment) -> None:
        if payment.provider_reference:  # a payment never submitted is unknown to the provider
            self.provider.void(
                reference=payment.provider_reference, idempotency_key=f"void:{payment.id}"
            )


class CardStrategy(ProviderStrategy):
    """The charge starts at once; the provider reports its outcome later."""

    method = "card"

    def submit(self, payment: Payment, *, now: datetime) -> Submission:
        reference = self.provider.start_card_charge(
            amount=money_of(payment), idempotency_key=f"submit:{payment.id}"
        )
        return Submission(provider_reference=reference)


class WalletStrategy(ProviderStrategy):
    """Redirect, approve, capture: the customer authorizes at the wallet, then we capture."""

    method = "wallet"
    needs_authorization = True

    def submit(self, payment: Payment, *, now: datetime) -> Submission:
        session = self.provider.create_wallet_session(
            amount=money_of(payment), idempotency_key=f"submit:{payment.id}"
        )
        return Submission(provider_reference=session.reference, approval_url=session.approval_url)

    def capture(self, payment: Payment) -> CaptureResult:
        assert payment.provider_reference
        return self.provider.capture_wallet(
            reference=payment.provider_reference,
            amount=money_of(payment),
            idempotency_key=f"capture:{payment.id}",
        )

    def accepts_result(self, status: PaymentStatus, *, succeeded: bool) -> bool:
        # The customer may reject the payment at the wallet before or after approving it, but
        # money only arrives for a payment they approved (a capture the provider settled later).
        if succeeded:
            return status == PaymentStatus.AUTHORIZED
        return status in (PaymentStatus.SUBMITTED, PaymentStatus.AUTHORIZED)


class BankTransferStrategy(ProviderStrategy):
    """Instructions now, money later, or never: then the payment expires."""

    method = "bank_transfer"

    def submit(self, payment: Payment, *, now: datetime) -> Submission:
        money = money_of(payment)
        instructions = self.provider.open_bank_transfer(
            amount=money, idempotency_key=f"submit:{payment.id}"
        )
        return Submission(
            provider_reference=instructions.reference,
            instructions=instructions.as_dict(money),
            expires_at=now + timedelta(days=settings.OMS_BANK_TRANSFER_EXPIRY_DAYS),
        )


def strategy_for(method: str) -> PaymentStrategy:
    """The strategy configured for ``method``, talking to the configured provider."""
    path = settings.OMS_PAYMENT_STRATEGIES.get(method)
    if path is None:
        # Order creation only accepts configured methods: this is a configuration change since.
        raise ImproperlyConfigured(f"no payment strategy is configured for {method!r}")
    strategy: PaymentStrategy = import_string(path)(provider=payment_provider())
    return strategy


def check_configuration() -> None:
    """Every method order creation accepts has an importable strategy, and so has the provider."""
    methods, strategies = settings.OMS_PAYMENT_METHODS, settings.OMS_PAYMENT_STRATEGIES
    if missing := sorted(set(methods) - set(strategies)):
        raise ImproperlyConfigured(
            f"OMS_PAYMENT_METHODS names {missing}, which OMS_PAYMENT_STRATEGIES does not configure"
        )
    for path in [*strategies.values(), settings.OMS_PAYMENT_PROVIDER]:
        try:
            import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"cannot import {path!r}: {exc}") from exc
