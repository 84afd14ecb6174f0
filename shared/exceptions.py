"""Domain errors.

Every error a command can raise is a subclass of :class:`DomainError`. Each carries the HTTP status,
a stable machine-readable ``code`` and a human title, so that one exception handler can map all of
them to RFC 9457 problem details without knowing any domain.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class DomainError(Exception):
    """Base of every business-rule error."""

    status: int = 400
    code: str = "domain_error"
    title: str = "The request breaks a business rule."

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)

    def problem_fields(self) -> dict[str, Any]:
        """Extra members for the problem document (RFC 9457 extension members)."""
        return dict(self.extra)


class InvalidStateTransition(DomainError):
    status = 409
    code = "invalid_state_transition"
    title = "The order cannot make this state transition."

    def __init__(self, current_state: str, target_state: str, allowed: Iterable[str]) -> None:
        self.current_state = current_state
        self.target_state = target_state
        self.allowed_transitions = sorted(allowed)
        super().__init__(
            f"An order in state {current_state} cannot move to {target_state}.",
            current_state=current_state,
            target_state=target_state,
            allowed_transitions=self.allowed_transitions,
        )


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "The resource does not exist."


class OrderNotFound(NotFound):
    code = "order_not_found"
    title = "The order does not exist."


class ConcurrencyConflict(DomainError):
    status = 409
    code = "concurrency_conflict"
    title = "The resource was changed by another request; reload it and try again."


class InvalidCommand(DomainError):
    """Input that matches the API schema but breaks a business rule (422).

    400 means "this is not what the schema describes" (``validation_error``); 422 means "well
    formed, and still refused": more decimals than the currency has, a total over the limit, a
    carrier other than the shipment's. A client can tell a bug in its request building from a
    request the business does not accept.
    """

    status = 422
    code = "invalid_command"
    title = "The command is not valid."


class UnsupportedCurrency(InvalidCommand):
    code = "unsupported_currency"
    title = "The currency is not supported."


class InvalidAmount(InvalidCommand):
    code = "invalid_amount"
    title = "The amount is not valid for its currency."


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    title = "The idempotency key was already used for a different request."


class IdempotencyKeyInProgress(DomainError):
    status = 409
    code = "idempotency_key_in_progress"
    title = "A request with this idempotency key is still being processed."


class WebhookSignatureInvalid(DomainError):
    status = 401
    code = "webhook_signature_invalid"
    title = "The webhook signature could not be verified."


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    title = "The request body is too large."
