"""Expiry: payments whose deadline passed without the money (bank transfers)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from apps.orders.commands import Actor
from apps.payments.events import (
    PaymentExpired,
)
from apps.payments.models import Payment
from apps.payments.repositories import lock_payment_of
from apps.payments.services.base import EXPIRED_REASON, PaymentServiceBase
from apps.payments.state_machine import (
    PaymentStatus,
)
from shared import clock


class Expiry(PaymentServiceBase):
    def expire_overdue(self, *, actor: Actor | None = None, now: datetime | None = None) -> int:
        """Expire submitted payments past their deadline and fail their orders ("expired").

        Each payment is expired in its own transaction; returns how many were expired.
        """
        moment = now or clock.now()
        actor = actor or Actor.system()
        due = list(
            Payment.objects.filter(
                status=PaymentStatus.SUBMITTED, expires_at__lte=moment
            ).values_list("order_id", flat=True)
        )
        expired = 0
        for order_id in due:
            with transaction.atomic():
                self.orders.hold(order_id)
                payment = lock_payment_of(order_id)
                if (
                    payment is None
                    or payment.status != PaymentStatus.SUBMITTED
                    or payment.expires_at is None
                    or payment.expires_at > moment
                ):
                    continue  # settled (or moved) since the query above
                self._change(
                    payment,
                    PaymentStatus.EXPIRED,
                    PaymentExpired(
                        aggregate_id=payment.id,
                        order_id=payment.order_id,
                        provider_reference=payment.provider_reference or "",
                        expires_at=payment.expires_at,
                        reason=EXPIRED_REASON,
                    ),
                    actor=actor,
                    idempotency_key=None,
                    failure_reason=EXPIRED_REASON,
                )
                self._fail_order(payment.order_id, EXPIRED_REASON, actor, None)
                expired += 1
        return expired
