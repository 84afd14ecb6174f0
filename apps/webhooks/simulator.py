"""A simulated payment provider and carrier that call the service back over real HTTP.

They react to our own events, as the real ones react to our API calls:

* ``PaymentSubmitted``: a card is approved (``payment.succeeded``) with probability
  ``OMS_SIMULATOR_APPROVAL_RATE``, else declined (``payment.failed`` with a reason); a wallet
  customer approves (``payment.authorized``) or rejects the payment; a bank transfer arrives
  (``payment.succeeded``).
* ``ShipmentRequested``: the carrier collects the parcel (``shipment.shipped``), then delivers it
  (``shipment.delivered``); with probability ``OMS_SIMULATOR_REORDER_RATE`` the delivery report is
  sent before the shipping report.
* ``RefundRequested``: the provider gives the money back (``refund.succeeded``), or refuses with
  probability ``OMS_SIMULATOR_REFUND_FAILURE_RATE`` (``refund.failed``).

What the provider and the carrier decide is also written to their ledgers (``LedgerPayment``,
``LedgerRefund``, ``LedgerParcel``), known from the moment its webhook is first due: the clients
in ``apps.webhooks.ledger`` answer from them when the service asks, so an answer whose webhooks
were all lost can still be found (reconciliation).

Each answer is a :class:`SimulatedWebhook` row written in the handler's transaction, due after a
delay drawn from ``OMS_SIMULATOR_MIN/MAX_DELAY_SECONDS``; with probability
``OMS_SIMULATOR_DUPLICATE_RATE`` the same message (same webhook id) is sent twice. Every decision
is drawn from a generator seeded with ``OMS_SIMULATOR_SEED`` and the event's id, and webhook ids
are derived from the event's id, so a handler that runs twice schedules nothing new.

:func:`send_due_webhooks` posts the due rows, signed with the provider's first configured secret,
to ``OMS_SIMULATOR_BASE_URL``; the embedded worker runs it as a periodic job, Celery beat as the
task ``webhooks.send_simulated_webhooks``, and ``manage.py simulate`` in a thread of its own.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings

from apps.events.base import EventEnvelope
from apps.payments import queries as payments
from apps.shipping.carriers import carrier_client
from apps.webhooks import messages as m
from apps.webhooks.models import (
    LedgerParcel,
    LedgerPayment,
    LedgerRefund,
    Provider,
    SimulatedWebhook,
)
from apps.webhooks.verification import secrets_for, signed_headers
from shared import clock
from shared.money import format_amount

logger = logging.getLogger(__name__)

USER_AGENT = "oms-provider-simulator/1"
DECLINE_REASONS = ("insufficient funds", "card declined by the issuer", "suspected fraud")
WALLET_REJECTION = "the customer rejected the payment at the wallet"
REFUND_REFUSAL = "the card account is closed"
_WEBHOOK_IDS = uuid.UUID("0d9f6a2e-31c4-4f7e-9b1a-5c2e8d7f4a63")


def enabled() -> bool:
    return bool(settings.OMS_SIMULATOR_ENABLED)


# --- scheduling ---------------------------------------------------------------------------------


class Plan:
    """The simulator's decisions about one event: reproducible from the seed and the event id."""

    def __init__(self, event: EventEnvelope) -> None:
        self.event = event
        self.random = random.Random(f"{settings.OMS_SIMULATOR_SEED}:{event.event_id}")
        self.now = clock.now()

    def chance(self, rate: float) -> bool:
        return self.random.random() < rate

    def delay(self) -> timedelta:
        low = settings.OMS_SIMULATOR_MIN_DELAY_SECONDS
        high = settings.OMS_SIMULATOR_MAX_DELAY_SECONDS
        return timedelta(seconds=self.random.uniform(low, high))

    def webhook_id(self, role: str) -> str:
        # From the event and the message's role, not its content: a re-run that decided
        # differently would still collide with what the first run scheduled.
        return f"msg_{uuid.uuid5(_WEBHOOK_IDS, f'{self.event.event_id}:{role}').hex}"

    def schedule(
        self,
        *,
        provider: Provider,
        role: str,
        message_type: str,
        data: dict[str, Any],
        order_id: uuid.UUID | str,
        after: timedelta,
    ) -> list[SimulatedWebhook]:
        """Write the message (and, by chance, its duplicate) to the simulator's outbox."""
        webhook_id = self.webhook_id(role)
        body = json.dumps(
            {"type": message_type, "timestamp": self.now.isoformat(), "data": data},
            separators=(",", ":"),
        )
        copies = 2 if self.chance(settings.OMS_SIMULATOR_DUPLICATE_RATE) else 1
        rows = [
            SimulatedWebhook(
                provider=provider,
                webhook_id=webhook_id,
                copy=copy,
                message_type=message_type,
                body=body,
                order_id=order_id,
                # The copy goes out at about the same moment: sometimes concurrently with it.
                send_at=self.now
                + after
                + timedelta(milliseconds=self.random.randint(0, 50) * copy),
                created_at=self.now,
            )
            for copy in range(copies)
        ]
        # A handler that runs again finds its rows there already (unique webhook id and copy).
        SimulatedWebhook.objects.bulk_create(rows, ignore_conflicts=True)
        return rows


def answer_payment(event: EventEnvelope) -> None:
    """The provider's answer to a submitted payment."""
    if not enabled():
        return
    reference = str(event.payload["provider_reference"])
    payment = payments.submitted_payment(reference)
    if payment is None:
        return  # the submission was rolled back after all: nothing to answer
    plan = Plan(event)
    approved = plan.chance(settings.OMS_SIMULATOR_APPROVAL_RATE)
    method = event.payload.get("method", "card")
    message_type: str
    data: dict[str, Any] = {"provider_reference": reference}
    if method == "wallet":
        message_type = m.PAYMENT_AUTHORIZED if approved else m.PAYMENT_FAILED
        if not approved:
            data["reason"] = WALLET_REJECTION
    elif approved or method == "bank_transfer":
        # A transfer that never arrives is the expiry's business, not the provider's.
        message_type = m.PAYMENT_SUCCEEDED
        data["amount"] = format_amount(payment.money.amount, payment.money.currency)
        data["currency"] = payment.money.currency
    else:
        message_type = m.PAYMENT_FAILED
        data["reason"] = plan.random.choice(DECLINE_REASONS)
    after = plan.delay()
    LedgerPayment.objects.bulk_create(
        [
            LedgerPayment(
                reference=reference,
                order_id=payment.order_id,
                method=method,
                amount=payment.money.amount,
                currency=payment.money.currency,
                status=LEDGER_STATUS[message_type],
                reason=data.get("reason", ""),
                known_from=plan.now + after,
            )
        ],
        ignore_conflicts=True,  # a handler that runs again decided the same
    )
    plan.schedule(
        provider=Provider.PAYMENT,
        role="payment-outcome",
        message_type=message_type,
        data=data,
        order_id=payment.order_id,
        after=after,
    )


LEDGER_STATUS = {
    m.PAYMENT_SUCCEEDED: "succeeded",
    m.PAYMENT_FAILED: "failed",
    m.PAYMENT_AUTHORIZED: "authorized",
}


def carry_parcel(event: EventEnvelope) -> None:
    """The carrier collects a requested shipment, then delivers it."""
    if not enabled():
        return
    payload = event.payload
    carrier = str(payload["carrier"])
    tracking_number = carrier_client().book_pickup(
        shipment_id=event.aggregate_id, carrier=carrier, service_level=str(payload["service_level"])
    )
    plan = Plan(event)
    data = {
        "order_id": str(payload["order_id"]),
        "carrier": carrier,
        "tracking_number": tracking_number,
    }
    shipped_after = plan.delay()
    delivered_after = shipped_after + plan.delay()
    LedgerParcel.objects.bulk_create(
        [
            LedgerParcel(
                shipment_id=event.aggregate_id,
                order_id=payload["order_id"],
                carrier=carrier,
                tracking_number=tracking_number,
                shipped_from=plan.now + shipped_after,
                delivered_from=plan.now + delivered_after,
            )
        ],
        ignore_conflicts=True,
    )
    if plan.chance(settings.OMS_SIMULATOR_REORDER_RATE):
        shipped_after, delivered_after = delivered_after, shipped_after
    for role, message_type, after in (
        ("shipped", m.SHIPMENT_SHIPPED, shipped_after),
        ("delivered", m.SHIPMENT_DELIVERED, delivered_after),
    ):
        plan.schedule(
            provider=Provider.SHIPPING,
            role=role,
            message_type=message_type,
            data=data,
            order_id=payload["order_id"],
            after=after,
        )


def answer_refund(event: EventEnvelope) -> None:
    """The provider gives the money of a refund back, or refuses to."""
    if not enabled():
        return
    reference = payments.provider_reference_of(event.aggregate_id)
    if not reference:
        return  # never submitted: the provider never knew the payment
    payload = event.payload
    plan = Plan(event)
    refused = plan.chance(settings.OMS_SIMULATOR_REFUND_FAILURE_RATE)
    after = plan.delay()
    data: dict[str, Any] = {
        "provider_reference": reference,
        "refund_reference": str(payload["refund_reference"]),
    }
    if refused:
        message_type, data["reason"] = m.REFUND_FAILED, REFUND_REFUSAL
    else:
        message_type = m.REFUND_SUCCEEDED
        data.update(amount=str(payload["amount"]), currency=str(payload["currency"]))
    LedgerRefund.objects.bulk_create(
        [
            LedgerRefund(
                reference=data["refund_reference"],
                payment_reference=reference,
                amount=Decimal(str(payload["amount"])),
                currency=str(payload["currency"]),
                outcome="failed" if refused else "succeeded",
                reason=data.get("reason", ""),
                known_from=plan.now + after,
            )
        ],
        ignore_conflicts=True,
    )
    plan.schedule(
        provider=Provider.PAYMENT,
        role="refund",
        message_type=message_type,
        data=data,
        order_id=payload["order_id"],
        after=after,
    )


# --- sending ------------------------------------------------------------------------------------


@dataclass
class SendReport:
    attempted: int = 0
    delivered: int = 0  # answered 2xx


@dataclass(frozen=True)
class _Attempt:
    row: SimulatedWebhook
    url: str
    headers: dict[str, str]


def send_due_webhooks(
    *, base_url: str | None = None, limit: int = 1000, transport: httpx.BaseTransport | None = None
) -> SendReport:
    """Post every due simulated webhook (at most ``limit``), in small claimed batches.

    A batch is claimed with one conditional UPDATE that moves the rows' ``send_at`` past the time
    a batch can take, so concurrent senders (the worker, beat, ``manage.py simulate``) never post
    the same row at once, and a sender that dies leaves its rows due again later. No transaction
    is held while posting: the receiving end writes to the same database.
    """
    base = (base_url or settings.OMS_SIMULATOR_BASE_URL).rstrip("/")
    concurrency = max(1, settings.OMS_SIMULATOR_SEND_CONCURRENCY)
    timeout = settings.OMS_SIMULATOR_HTTP_TIMEOUT_SECONDS
    report = SendReport()
    with (
        httpx.Client(timeout=timeout, transport=transport) as client,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="simulator") as pool,
    ):
        while report.attempted < limit:
            batch = _claim(min(concurrency * 2, limit - report.attempted), lease=3 * timeout + 5)
            if not batch:
                break
            attempts = [_prepare(row, base) for row in batch]
            # Threads only talk HTTP; the results are written from this thread's connection.
            statuses = list(pool.map(lambda attempt: _post(client, attempt), attempts))
            for attempt, (status, error) in zip(attempts, statuses, strict=True):
                _record(attempt.row, status, error)
                report.attempted += 1
                report.delivered += status is not None and 200 <= status < 300
    return report


def send_if_enabled() -> int:
    """The periodic job and the beat task: nothing to do while the simulator is off."""
    if not enabled():
        return 0
    return send_due_webhooks().delivered


def _claim(size: int, *, lease: float) -> list[SimulatedWebhook]:
    moment = clock.now()
    due = (
        SimulatedWebhook.objects.filter(
            sent_at__isnull=True,
            send_at__lte=moment,
            attempts__lt=settings.OMS_SIMULATOR_MAX_ATTEMPTS,
        )
        .order_by("send_at", "id")
        .values_list("id", flat=True)[:size]
    )
    ids = list(due)
    if not ids:
        return []
    token = uuid.uuid4().hex
    # One statement: a row a concurrent sender claimed meanwhile no longer has send_at <= moment
    # (PostgreSQL re-checks the condition after waiting for that sender's row lock).
    SimulatedWebhook.objects.filter(id__in=ids, sent_at__isnull=True, send_at__lte=moment).update(
        claim=token, send_at=moment + timedelta(seconds=lease)
    )
    return list(SimulatedWebhook.objects.filter(claim=token).order_by("send_at", "id"))


def _prepare(row: SimulatedWebhook, base_url: str) -> _Attempt:
    secrets = secrets_for(row.provider)
    body = row.body.encode()
    headers = {"content-type": "application/json", "user-agent": USER_AGENT}
    if secrets:
        # Signed now, not when scheduled: a late retry must still pass the timestamp check.
        headers.update(signed_headers(secrets[:1], webhook_id=row.webhook_id, body=body))
    return _Attempt(row=row, url=f"{base_url}/api/v1/webhooks/{row.provider}/", headers=headers)


def _post(client: httpx.Client, attempt: _Attempt) -> tuple[int | None, str]:
    if "webhook-signature" not in attempt.headers:
        return None, f"no webhook secret is configured for {attempt.row.provider}"
    try:
        response = client.post(
            attempt.url, content=attempt.row.body.encode(), headers=attempt.headers
        )
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, response.text[:2000]


def _record(row: SimulatedWebhook, status: int | None, error: str) -> None:
    moment = clock.now()
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error}
    if status is not None and 200 <= status < 300:
        values["sent_at"] = moment
    else:
        values["send_at"] = moment + _backoff(attempts)
        logger.warning(
            "simulated %s webhook %s (%s) attempt %d failed: %s %s",
            row.provider,
            row.webhook_id,
            row.message_type,
            attempts,
            status,
            error[:200],
        )
    SimulatedWebhook.objects.filter(id=row.id, claim=row.claim).update(**values)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.OMS_SIMULATOR_RETRY_SECONDS * 2 ** (attempts - 1))


def pending_count() -> int:
    """How many simulated webhooks are still to be sent (due or not)."""
    return SimulatedWebhook.objects.filter(
        sent_at__isnull=True, attempts__lt=settings.OMS_SIMULATOR_MAX_ATTEMPTS
    ).count()
