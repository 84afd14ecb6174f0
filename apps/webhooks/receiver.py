"""Receiving one webhook: verify, log, dedupe, apply. Every request leaves exactly one log row.

1. Verify the signature. A bad or missing one is logged ``rejected`` in a transaction of its own
   and nothing else happens (401).
2. Parse and validate the body by the API's rules: declared as ``application/json`` in UTF-8
   (else 415), strict JSON (else 400), a valid message (else 400). A refused one is logged
   ``rejected`` too, and nothing else happens.
3. In one transaction: insert the log row as ``processed`` in a savepoint. If the unique index
   refuses it, another row already claimed the webhook id: log a ``duplicate`` and stop (200).
   Otherwise apply the message in a savepoint. A stale message (the order already moved past it)
   is ``ignored`` (200); any other domain error rolls back the action only and leaves a
   ``failed`` row (the error's status, so that the provider retries).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from rest_framework.exceptions import APIException

from apps.webhooks.actions import ACTIONS, MessageContext, is_stale
from apps.webhooks.errors import WebhookProcessingFailed
from apps.webhooks.messages import Message, message_type_of, parse
from apps.webhooks.models import Provider, WebhookLog, WebhookOutcome
from apps.webhooks.verification import ID_HEADER, secrets_for, verify
from shared import clock, metrics
from shared.exceptions import DomainError, WebhookSignatureInvalid

logger = logging.getLogger(__name__)

# Credentials of whoever called, never needed to audit a webhook and not to be stored.
UNLOGGED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


@dataclass(frozen=True)
class Receipt:
    """The log row written for a request and, for a non-2xx outcome, the error to answer with."""

    log: WebhookLog
    problem: DomainError | APIException | None = None


def new_entry(provider: Provider, *, headers: Mapping[str, str], body: bytes) -> WebhookLog:
    """The log row of a request as it arrived (not saved yet)."""
    return WebhookLog(
        provider=provider,
        webhook_id=_storable(_header(headers, ID_HEADER))[:255],
        headers={
            name.lower(): _storable(value)
            for name, value in headers.items()
            if name.lower() not in UNLOGGED_HEADERS
        },
        body=_storable(body.decode("utf-8", errors="replace")),
        signature_valid=False,
        received_at=clock.now(),
    )


def receive(provider: Provider, *, headers: Mapping[str, str], body: bytes) -> Receipt:
    entry = new_entry(provider, headers=headers, body=body)
    try:
        verified = verify(secrets=secrets_for(provider), headers=headers, body=body)
    except WebhookSignatureInvalid as exc:
        return reject(entry, exc)
    entry.signature_valid = True
    entry.webhook_id = verified.webhook_id
    try:
        message = parse(provider, body, content_type=_header(headers, "content-type") or None)
    except APIException as exc:
        entry.message_type = message_type_of(body)
        return reject(entry, exc)
    return _apply(entry, message)


def observe(receipt: Receipt) -> Receipt:
    """Count the request's outcome and write its one log line (ids only: no headers, no body)."""
    entry = receipt.log
    metrics.webhooks_received.labels(entry.provider, entry.outcome).inc()
    logger.info(
        "%s webhook %s",
        entry.provider,
        entry.outcome,
        extra={
            "provider": entry.provider,
            "outcome": entry.outcome,
            "webhook_id": entry.webhook_id,
            "message_type": entry.message_type,
            "order_id": str(entry.order_id) if entry.order_id else None,
        },
    )
    return receipt


def reject(entry: WebhookLog, problem: DomainError | APIException) -> Receipt:
    """Log a request that will not be acted on, in its own transaction."""
    entry.outcome = WebhookOutcome.REJECTED
    entry.error = _describe(problem)
    entry.processed_at = clock.now()
    with transaction.atomic():
        entry.save(force_insert=True)
    return Receipt(entry, problem)


def _apply(entry: WebhookLog, message: Message) -> Receipt:
    entry.message_type = message.kind.name
    entry.order_id = message.order_id()
    context = MessageContext(idempotency_key=f"webhook:{entry.provider}:{entry.webhook_id}")
    problem: DomainError | None = None
    with transaction.atomic():
        entry.outcome = WebhookOutcome.PROCESSED
        try:
            with transaction.atomic():
                entry.save(force_insert=True)
        except IntegrityError:
            # The id is claimed by a processed or ignored row (on PostgreSQL, a twin still in
            # flight made this insert wait until it committed): absorb this copy.
            entry.pk = None
            entry.outcome = WebhookOutcome.DUPLICATE
            entry.processed_at = clock.now()
            entry.save(force_insert=True)
            return Receipt(entry)
        try:
            with transaction.atomic():
                ACTIONS[message.kind.name](message.data, context)
        except DomainError as exc:
            entry.error = _describe(exc)
            if is_stale(exc):
                entry.outcome = WebhookOutcome.IGNORED
            else:
                entry.outcome = WebhookOutcome.FAILED
                problem = exc
        except Exception:
            # A bug or a database hiccup: keep the row, answer so that the provider retries.
            logger.exception("applying %s webhook %s failed", entry.provider, entry.webhook_id)
            entry.outcome = WebhookOutcome.FAILED
            entry.error = traceback.format_exc()
            problem = WebhookProcessingFailed()
        entry.processed_at = clock.now()
        entry.save(update_fields=["outcome", "error", "processed_at"])
    return Receipt(entry, problem)


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name), "")


def _storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL; the row must be written whatever arrived.
    return text.replace("\x00", "\ufffd")


def _describe(problem: DomainError | APIException) -> str:
    if isinstance(problem, DomainError):
        return f"{problem.code}: {problem.detail}"
    return f"{problem.default_code}: {problem.detail}"
