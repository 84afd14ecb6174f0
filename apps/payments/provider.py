"""The client of the external payment provider: the one simulated part of payments.

Strategies talk to the provider only through :class:`PaymentProvider`. Every call carries an
idempotency key derived from the payment (or the refund), so a call repeated after a crash or a
rolled-back transaction is answered with the same reference and never charges or refunds twice.
Answers that the provider sends later (a card's outcome, a bank transfer's arrival, a refund's
outcome) arrive by webhook; what the provider knows of a payment can also be asked for
(``fetch_payment``), which is how reconciliation finds the answers that never arrived.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from shared.money import Money, format_amount


@dataclass(frozen=True)
class WalletSession:
    reference: str
    approval_url: str


@dataclass(frozen=True)
class TransferInstructions:
    reference: str
    iban: str
    bic: str
    beneficiary: str

    def as_dict(self, amount: Money) -> dict[str, str]:
        """What the customer needs to send the money; the reference identifies the payment."""
        return {
            "iban": self.iban,
            "bic": self.bic,
            "beneficiary": self.beneficiary,
            "reference": self.reference,
            "amount": format_amount(amount.amount, amount.currency),
            "currency": amount.currency,
        }


class CaptureStatus(enum.StrEnum):
    CAPTURED = "captured"
    DECLINED = "declined"
    # Accepted but not settled yet: the outcome arrives later, like a card's.
    PENDING = "pending"


@dataclass(frozen=True)
class CaptureResult:
    status: CaptureStatus
    reason: str = ""


class RefundOutcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Accepted; the outcome arrives later by webhook (or is found by reconciliation).
    PENDING = "pending"


@dataclass(frozen=True)
class RefundSubmission:
    """The provider's answer to a refund request."""

    reference: str
    outcome: RefundOutcome
    reason: str = ""


class ProviderPaymentStatus(enum.StrEnum):
    """A payment as the provider sees it."""

    PENDING = "pending"  # no outcome yet
    AUTHORIZED = "authorized"  # wallet: approved by the customer, not captured yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class ProviderRefund:
    reference: str
    amount: Money
    outcome: RefundOutcome
    reason: str = ""


@dataclass(frozen=True)
class ProviderPayment:
    """What the provider knows of one payment: its outcome and the refunds made against it."""

    reference: str
    status: ProviderPaymentStatus
    amount: Money
    reason: str = ""
    refunds: tuple[ProviderRefund, ...] = ()


class PaymentProvider(Protocol):
    """What the service needs from the payment provider."""

    # A client that moves real money declares ``simulated = False``; any other client is taken
    # for a simulated one, which production refuses unless told (``OMS_ALLOW_SIMULATED_PROVIDERS``).
    simulated: bool

    def start_card_charge(self, *, amount: Money, idempotency_key: str) -> str:
        """Start charging a card; returns the provider's reference. The outcome comes later."""
        ...

    def create_wallet_session(self, *, amount: Money, idempotency_key: str) -> WalletSession:
        """Open a session the customer approves at the wallet (redirect to ``approval_url``)."""
        ...

    def capture_wallet(
        self, *, reference: str, amount: Money, idempotency_key: str
    ) -> CaptureResult:
        """Take the money of an approved wallet session."""
        ...

    def open_bank_transfer(self, *, amount: Money, idempotency_key: str) -> TransferInstructions:
        """Reserve a transfer reference; the money arrives (or not) days later."""
        ...

    def refund(self, *, reference: str, amount: Money, idempotency_key: str) -> RefundSubmission:
        """Give ``amount`` of a settled payment back: the refund's reference and its outcome
        (often ``pending``: the provider answers later)."""
        ...

    def void(self, *, reference: str, idempotency_key: str) -> None:
        """Cancel a payment on which no money has moved yet."""
        ...

    def fetch_payment(self, *, reference: str) -> ProviderPayment | None:
        """What the provider knows of the payment ``reference``; None if it knows nothing."""
        ...


WALLET_APPROVAL_BASE_URL = "https://wallet.provider.example/approve/"
_REFERENCES = uuid.UUID("6f1d3c1e-5b7a-4c43-9a55-0d2f9f0c7b11")


def _reference(prefix: str, idempotency_key: str) -> str:
    # Derived from the key: the same request always gets the same reference, as at a real provider.
    return f"{prefix}_{uuid.uuid5(_REFERENCES, idempotency_key).hex[:24]}"


class SimulatedPaymentProvider:
    """A provider that accepts everything at once and refunds at once; its asynchronous answers
    to payments come from callers, and it remembers nothing (``fetch_payment`` knows nothing).
    The provider simulator (``apps.webhooks``) extends it with a ledger and webhooks."""

    simulated = True  # no money moves: subclasses stay simulated unless they say otherwise

    def start_card_charge(self, *, amount: Money, idempotency_key: str) -> str:
        return _reference("card", idempotency_key)

    def create_wallet_session(self, *, amount: Money, idempotency_key: str) -> WalletSession:
        reference = _reference("wallet", idempotency_key)
        return WalletSession(reference=reference, approval_url=WALLET_APPROVAL_BASE_URL + reference)

    def capture_wallet(
        self, *, reference: str, amount: Money, idempotency_key: str
    ) -> CaptureResult:
        return CaptureResult(CaptureStatus.CAPTURED)

    def open_bank_transfer(self, *, amount: Money, idempotency_key: str) -> TransferInstructions:
        return TransferInstructions(
            reference=_reference("bt", idempotency_key).upper(),
            iban="DE89370400440532013000",
            bic="COBADEFFXXX",
            beneficiary="OMS Payments",
        )

    def refund(self, *, reference: str, amount: Money, idempotency_key: str) -> RefundSubmission:
        return RefundSubmission(_reference("refund", idempotency_key), RefundOutcome.SUCCEEDED)

    def void(self, *, reference: str, idempotency_key: str) -> None:
        return None

    def fetch_payment(self, *, reference: str) -> ProviderPayment | None:
        return None


def payment_provider() -> PaymentProvider:
    """The configured provider client (``OMS_PAYMENT_PROVIDER``)."""
    provider: PaymentProvider = import_string(settings.OMS_PAYMENT_PROVIDER)()
    return provider
