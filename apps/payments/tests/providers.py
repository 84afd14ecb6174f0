"""Stand-ins for the external payment provider (the only thing these tests simulate)."""

from __future__ import annotations

from typing import ClassVar

from apps.payments.provider import (
    CaptureResult,
    CaptureStatus,
    RefundOutcome,
    RefundSubmission,
    SimulatedPaymentProvider,
    TransferInstructions,
    WalletSession,
)
from shared.money import Money

RECORDING_PROVIDER = "apps.payments.tests.providers.RecordingProvider"


class RecordingProvider(SimulatedPaymentProvider):
    """The simulated provider, plus a log of every call and a scripted wallet capture answer."""

    calls: ClassVar[list[tuple[str, str]]] = []
    refunded: ClassVar[list[Money]] = []
    capture_answer: ClassVar[CaptureResult] = CaptureResult(CaptureStatus.CAPTURED)
    # None: refunds succeed at once (the simulated provider's answer); else this outcome.
    refund_answer: ClassVar[RefundOutcome | None] = None

    @classmethod
    def reset(cls) -> None:
        cls.calls = []
        cls.refunded = []
        cls.capture_answer = CaptureResult(CaptureStatus.CAPTURED)
        cls.refund_answer = None

    @classmethod
    def called(cls, operation: str) -> list[str]:
        return [key for name, key in cls.calls if name == operation]

    def start_card_charge(self, *, amount: Money, idempotency_key: str) -> str:
        self.calls.append(("charge", idempotency_key))
        return super().start_card_charge(amount=amount, idempotency_key=idempotency_key)

    def create_wallet_session(self, *, amount: Money, idempotency_key: str) -> WalletSession:
        self.calls.append(("wallet_session", idempotency_key))
        return super().create_wallet_session(amount=amount, idempotency_key=idempotency_key)

    def capture_wallet(
        self, *, reference: str, amount: Money, idempotency_key: str
    ) -> CaptureResult:
        self.calls.append(("capture", idempotency_key))
        return self.capture_answer

    def open_bank_transfer(self, *, amount: Money, idempotency_key: str) -> TransferInstructions:
        self.calls.append(("bank_transfer", idempotency_key))
        return super().open_bank_transfer(amount=amount, idempotency_key=idempotency_key)

    def refund(self, *, reference: str, amount: Money, idempotency_key: str) -> RefundSubmission:
        self.calls.append(("refund", idempotency_key))
        self.refunded.append(amount)
        if self.refund_answer is not None:
            return RefundSubmission(
                super()
                .refund(reference=reference, amount=amount, idempotency_key=idempotency_key)
                .reference,
                self.refund_answer,
                "refused by the provider" if self.refund_answer == RefundOutcome.FAILED else "",
            )
        return super().refund(reference=reference, amount=amount, idempotency_key=idempotency_key)

    def void(self, *, reference: str, idempotency_key: str) -> None:
        self.calls.append(("void", idempotency_key))
