"""The shipping service: the one place where shipments change.

Each public method is one transaction that locks the order's row first and then its shipment's
(the same order as the order commands it calls). The order row is only locked and read here;
orders change through :class:`OrderService`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum

from apps.events.versioned import create_once, save_change
from apps.orders import lifecycle
from apps.orders.commands import Actor, MarkDelivered, MarkShipped, StartProcessing
from apps.orders.models import Order, OrderItem
from apps.orders.services import OrderService
from apps.shipping.carriers import ParcelStatus, carrier_client
from apps.shipping.commands import (
    CarrierReport,
    CreateShipment,
    RecordDelivered,
    RecordShipped,
    ShipOrder,
)
from apps.shipping.errors import ShipmentNotFound, TrackingNumberInUse
from apps.shipping.events import (
    ShipmentDelivered,
    ShipmentEvent,
    ShipmentRequested,
    ShipmentShipped,
)
from apps.shipping.models import Shipment
from apps.shipping.repositories import lock_shipment_of
from apps.shipping.state_machine import ShipmentStatus, transition
from apps.shipping.strategies import Parcel, strategy_for
from shared import clock
from shared.exceptions import ConcurrencyConflict, InvalidCommand, InvalidStateTransition
from shared.ids import new_id
from shared.money import Money, in_currency_places
from shared.observed import observed_command


class ShippingService:
    """Requests, ships and delivers the shipment of an order."""

    def __init__(self) -> None:
        self.orders = OrderService()

    @observed_command
    def create_shipment(self, command: CreateShipment) -> Shipment | None:
        """Request the paid order's shipment (rate and estimate from its strategy) and start
        processing the order, together.

        Safe to call twice: the second call finds the shipment and the order already processing
        (and the database refuses a second shipment for one order even when two calls race).
        Returns None for an order that was cancelled before its shipment was requested.
        """
        with transaction.atomic():
            order = self.orders.hold(command.order_id)
            if not lifecycle.may_be_shipped_later(order):
                return Shipment.objects.filter(order_id=command.order_id).first()
            shipment = lock_shipment_of(command.order_id) or self._create(
                order, command.actor, command.idempotency_key
            )
            if lifecycle.awaits_processing(order):
                self.orders.start_processing(
                    StartProcessing(
                        actor=command.actor,
                        order_id=command.order_id,
                        idempotency_key=command.idempotency_key,
                    )
                )
        return shipment

    @observed_command
    def ship(self, command: ShipOrder) -> Order:
        """Hand the processing order to its shipment's carrier (staff).

        Without a ``tracking_number`` the carrier client books the pickup and issues one.
        """
        with transaction.atomic():
            order = self.orders.hold(command.order_id)
            # Refuse a stale request before the carrier books a pickup it would not need.
            if command.expected_version is not None and order.version != command.expected_version:
                raise ConcurrencyConflict(
                    f"Order {order.id} is at version {order.version}, "
                    f"not {command.expected_version}.",
                    current_version=order.version,
                )
            lifecycle.ensure_can_be_shipped(order)  # 409 unless PROCESSING
            # A processing order has its shipment once the OrderPaid handler ran; when it is
            # still behind (a busy worker), the shipment is requested here, idempotently.
            shipment = lock_shipment_of(command.order_id) or self._create(
                order, command.actor, command.idempotency_key
            )
            tracking = command.tracking_number or carrier_client().book_pickup(
                shipment_id=shipment.id,
                carrier=shipment.carrier,
                service_level=shipment.service_level,
            )
            return self.record_shipped(
                RecordShipped(
                    order_id=command.order_id,
                    carrier=command.carrier or shipment.carrier,
                    tracking_number=tracking,
                    actor=command.actor,
                    idempotency_key=command.idempotency_key,
                    expected_version=command.expected_version,
                )
            )

    @observed_command
    def record_shipped(self, command: RecordShipped) -> Order:
        """The carrier took the parcel: the shipment is shipped and the order SHIPPED."""
        with transaction.atomic():
            order = self.orders.hold(command.order_id)
            lifecycle.ensure_can_be_shipped(order)
            shipment = self._locked(command.order_id)
            if command.carrier != shipment.carrier:
                raise InvalidCommand(
                    f"The shipment goes with {shipment.carrier}, not {command.carrier}.",
                    field="carrier",
                    expected=shipment.carrier,
                )
            try:
                with transaction.atomic():
                    self._change(
                        shipment,
                        ShipmentStatus.SHIPPED,
                        ShipmentShipped(
                            aggregate_id=shipment.id,
                            order_id=command.order_id,
                            carrier=command.carrier,
                            tracking_number=command.tracking_number,
                        ),
                        actor=command.actor,
                        idempotency_key=command.idempotency_key,
                        tracking_number=command.tracking_number,
                        shipped_at=clock.now(),
                    )
            except IntegrityError as exc:
                raise TrackingNumberInUse(
                    f"{command.carrier} tracking number {command.tracking_number} "
                    "is already in use.",
                    tracking_number=command.tracking_number,
                ) from exc
            return self.orders.mark_shipped(
                MarkShipped(
                    actor=command.actor,
                    order_id=command.order_id,
                    carrier=command.carrier,
                    tracking_number=command.tracking_number,
                    idempotency_key=command.idempotency_key,
                    expected_version=command.expected_version,
                )
            )

    @observed_command
    def record_carrier_shipped(self, command: CarrierReport) -> Order:
        """The carrier reports the parcel shipped. It holds the parcel, so the shipment was
        requested, even if our reaction to the payment (which requests it) has not run yet: a
        paid order's shipment is requested first (idempotent), in the same transaction."""
        with transaction.atomic():
            order = self.orders.hold(command.order_id)
            self._request_if_only_paid(order, command.actor, command.idempotency_key)
            return self.record_shipped(command.as_shipped())

    @observed_command
    def record_carrier_delivered(self, command: CarrierReport) -> Order:
        """The carrier reports the parcel delivered. Delivered implies shipped: when that report
        has not arrived yet, the shipment is requested (if need be) and shipped first, all in
        this transaction."""
        with transaction.atomic():
            order = self.orders.hold(command.order_id)
            self._request_if_only_paid(order, command.actor, command.idempotency_key)
            if lifecycle.may_be_shipped_later(order):
                self.record_shipped(command.as_shipped())
            return self.record_delivered(
                RecordDelivered(
                    actor=command.actor,
                    order_id=command.order_id,
                    idempotency_key=command.idempotency_key,
                )
            )

    def _request_if_only_paid(
        self, order: Order, actor: Actor, idempotency_key: str | None
    ) -> None:
        if lifecycle.awaits_processing(order):
            self.create_shipment(
                CreateShipment(order_id=order.id, actor=actor, idempotency_key=idempotency_key)
            )

    @observed_command
    def record_delivered(self, command: RecordDelivered) -> Order:
        """The parcel arrived: the shipment is delivered and the order DELIVERED."""
        with transaction.atomic():
            order = self.orders.hold(command.order_id)
            lifecycle.ensure_can_be_delivered(order)  # 409 unless SHIPPED
            shipment = self._locked(command.order_id)
            self._change(
                shipment,
                ShipmentStatus.DELIVERED,
                ShipmentDelivered(aggregate_id=shipment.id, order_id=command.order_id),
                actor=command.actor,
                idempotency_key=command.idempotency_key,
                delivered_at=clock.now(),
            )
            return self.orders.mark_delivered(
                MarkDelivered(
                    actor=command.actor,
                    order_id=command.order_id,
                    idempotency_key=command.idempotency_key,
                    expected_version=command.expected_version,
                )
            )

    def ask_carrier(self, order_id: uuid.UUID, *, actor: Actor | None = None) -> str:
        """Ask the carrier where the order's parcel is and apply what it knows and we missed
        (the reports its webhooks would have made: shipped, delivered). Returns what the carrier
        said: "shipped", "delivered", "booked", or "unknown" when it knows nothing."""
        shipment = Shipment.objects.filter(order_id=order_id).first()
        if shipment is None:
            return "unknown"
        report = carrier_client().track(shipment_id=shipment.id)
        if report is None:
            return "unknown"
        command = CarrierReport(
            order_id=order_id,
            carrier=report.carrier,
            tracking_number=report.tracking_number,
            actor=actor or Actor.system(),
            idempotency_key=f"carrier:{shipment.id}:{report.status}",
        )
        try:
            if report.status == ParcelStatus.DELIVERED:
                self.record_carrier_delivered(command)
            elif report.status == ParcelStatus.SHIPPED:
                self.record_carrier_shipped(command)
        except InvalidStateTransition as exc:
            if not lifecycle.came_too_late(exc):
                raise  # the order cannot take it (cancelled meanwhile is "too late" too)
        return str(report.status)

    # --- internals ------------------------------------------------------------------------------

    @staticmethod
    def _locked(order_id: uuid.UUID) -> Shipment:
        shipment = lock_shipment_of(order_id)
        if shipment is None:
            raise ShipmentNotFound(f"Order {order_id} has no shipment.", order_id=str(order_id))
        return shipment

    @staticmethod
    def _create(order: Order, actor: Actor, idempotency_key: str | None) -> Shipment:
        units = OrderItem.objects.filter(order_id=order.id).aggregate(units=Sum("quantity"))
        parcel = Parcel(
            item_count=int(units["units"] or 0),
            subtotal=Money.of(order.subtotal, order.currency),
        )
        moment = clock.now()
        quote = strategy_for(order.shipping_method).quote(parcel, ship_date=moment.date())
        # The rate is what the order charged for shipping when it was created, whatever the
        # rates are today; the carrier, service level and estimate are the strategy's now.
        rate = Money.of(in_currency_places(order.shipping_total, order.currency), order.currency)
        shipment = Shipment(
            id=new_id(),
            order_id=order.id,
            carrier=quote.carrier,
            service_level=quote.service_level,
            rate=rate.amount,
            currency=rate.currency,
            status=ShipmentStatus.REQUESTED,
            estimated_delivery=quote.estimated_delivery,
            version=1,
            created_at=moment,
            updated_at=moment,
        )
        # order_id is unique: when the order already has its shipment, a twin run won.
        return create_once(
            shipment,
            ShipmentRequested(
                aggregate_id=shipment.id,
                order_id=order.id,
                carrier=quote.carrier,
                service_level=quote.service_level,
                rate=rate.amount,
                currency=rate.currency,
                estimated_delivery=quote.estimated_delivery,
            ),
            existing={"order_id": order.id},
            user_id=actor.user_id,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def _change(
        shipment: Shipment,
        target: ShipmentStatus,
        event: ShipmentEvent,
        *,
        actor: Actor,
        idempotency_key: str | None,
        **fields: Any,
    ) -> None:
        """Move ``shipment`` to ``target``, guarded by the version read, and append ``event``."""
        save_change(
            shipment,
            event,
            user_id=actor.user_id,
            idempotency_key=idempotency_key,
            status=transition(shipment.status, target),
            **fields,
        )
