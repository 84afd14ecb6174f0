"""Errors of the webhook adapter (mapped to problem+json like every DomainError)."""

from __future__ import annotations

from shared.exceptions import DomainError


class WebhookAmountMismatch(DomainError):
    """The provider reports a payment of another amount or currency than the one we asked for."""

    status = 422
    code = "webhook_amount_mismatch"
    title = "The reported amount differs from the payment's amount."


class WebhookBodyTooLarge(DomainError):
    status = 413
    code = "webhook_body_too_large"
    title = "The webhook body is too large."


class WebhookProcessingFailed(DomainError):
    """Applying the message failed unexpectedly; it is logged, and the provider should retry."""

    status = 503
    code = "webhook_processing_failed"
    title = "The webhook could not be processed now; retry later."
