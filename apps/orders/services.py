"""The order service: the one place where orders change.

Each public method handles one command in one transaction: lock the row, ask the state machine,
update the row and bump its version, append the event (which applies the projections too).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from apps.events import store
from apps.events.versioned import save_change
from apps.orders import pricing, repositories
from apps.orders.commands import (
    CancelOrder,
    ConfirmPayment,
    CreateOrder,
    FailPayment,
    MarkDelivered,
    MarkShipped,
    OrderCommand,
    StartProcessing,
)
from apps.orders.events import (
    OrderCancelled,
    OrderCreated,
    OrderDelivered,
    OrderLine,
    OrderPaid,
    OrderProcessingStarted,
    OrderShipped,
    OrderTransitionEvent,
    PaymentFailed,
)
from apps.orders.models import Order, OrderItem
from apps.orders.state_machine import INITIAL_STATE, OrderState, transition
from shared import clock, rows
from shared.exceptions import ConcurrencyConflict, InvalidCommand
from shared.ids import new_id
from shared.money import Money, in_currency_places, validate_currency
from shared.observed import observed_command

MAX_ITEMS_PER_ORDER = 100
MAX_QUANTITY_PER_ITEM = 1_000_000


class OrderService:
    """Creates orders and moves them through the state machine."""

    @staticmethod
    def hold(order_id: uuid.UUID) -> Order:
        """The order, locked until the caller's transaction ends: what payments and shipping
        take first when they change what belongs to an order (its payment, its shipment), so
        that the order cannot change under them. They read it and question it through
        ``apps.orders.lifecycle``; they change it only through this service's commands."""
        return repositories.lock_order(order_id)

    @observed_command
    def create_order(self, command: CreateOrder) -> Order:
        currency = validate_currency(command.currency)
        self._check_methods(command.payment_method, command.shipping_method)
        if not command.items:
            raise InvalidCommand("An order needs at least one item.")
        if len(command.items) > MAX_ITEMS_PER_ORDER:
            raise InvalidCommand(f"An order has at most {MAX_ITEMS_PER_ORDER} items.")
        lines, subtotal = self._priced_lines(command, currency)
        moment = clock.now()
        shipping = pricing.shipping_charge(
            method=command.shipping_method,
            units=sum(line.quantity for line in lines),
            subtotal=subtotal,
            on=moment.date(),
        )
        total = subtotal + shipping
        order = Order(
            id=new_id(),
            customer_id=command.customer_id,
            state=INITIAL_STATE,
            currency=currency,
            subtotal=subtotal.amount,
            shipping_total=shipping.amount,
            total=total.amount,
            payment_method=command.payment_method,
            shipping_method=command.shipping_method,
            version=1,
            created_at=moment,
            updated_at=moment,
        )
        items = [
            OrderItem(
                order=order,
                position=position,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for position, line in enumerate(lines)
        ]
        with transaction.atomic():
            rows.insert([order])
            rows.insert(items)
            store.append(
                [
                    OrderCreated(
                        aggregate_id=order.id,
                        customer_id=command.customer_id,
                        currency=currency,
                        total=total.amount,
                        subtotal=subtotal.amount,
                        shipping_total=shipping.amount,
                        items=lines,
                        state=INITIAL_STATE,
                        payment_method=command.payment_method,
                        shipping_method=command.shipping_method,
                    )
                ],
                expected_version=0,
                user_id=command.actor.user_id,
                idempotency_key=command.idempotency_key,
            )
        # The caller gets the order as written, items included, with nothing read back.
        repositories.attach_items(order, items)
        return order

    @staticmethod
    def _priced_lines(command: CreateOrder, currency: str) -> tuple[list[OrderLine], Money]:
        """The order's lines with their prices in the currency's places, and their total."""
        lines: list[OrderLine] = []
        total = Money.zero(currency)
        for line in command.items:
            if not 0 < line.quantity <= MAX_QUANTITY_PER_ITEM:
                raise InvalidCommand(
                    f"Item {line.sku}: quantity must be between 1 and {MAX_QUANTITY_PER_ITEM}."
                )
            price = Money.parse(line.unit_price, currency)
            if price.amount < 0:
                raise InvalidCommand(f"Item {line.sku}: unit price must not be negative.")
            total = total + price.times(line.quantity)
            lines.append(
                OrderLine(
                    sku=line.sku, name=line.name, quantity=line.quantity, unit_price=price.amount
                )
            )
        return lines, total

    @observed_command
    def confirm_payment(self, command: ConfirmPayment) -> Order:
        def event(order: Order, from_state: str) -> OrderTransitionEvent:
            return OrderPaid(
                aggregate_id=order.id,
                from_state=from_state,
                to_state=OrderState.PAID,
                amount=in_currency_places(order.total, order.currency),
                currency=order.currency,
                payment_reference=command.payment_reference,
            )

        return self._transition(command, OrderState.PAID, event)

    @observed_command
    def fail_payment(self, command: FailPayment) -> Order:
        def event(order: Order, from_state: str) -> OrderTransitionEvent:
            return PaymentFailed(
                aggregate_id=order.id,
                from_state=from_state,
                to_state=OrderState.FAILED,
                reason=command.reason,
            )

        return self._transition(command, OrderState.FAILED, event)

    @observed_command
    def cancel_order(self, command: CancelOrder) -> Order:
        def event(order: Order, from_state: str) -> OrderTransitionEvent:
            return OrderCancelled(
                aggregate_id=order.id,
                from_state=from_state,
                to_state=OrderState.CANCELLED,
                reason=command.reason,
            )

        return self._transition(command, OrderState.CANCELLED, event)

    @observed_command
    def start_processing(self, command: StartProcessing) -> Order:
        def event(order: Order, from_state: str) -> OrderTransitionEvent:
            return OrderProcessingStarted(
                aggregate_id=order.id, from_state=from_state, to_state=OrderState.PROCESSING
            )

        return self._transition(command, OrderState.PROCESSING, event)

    @observed_command
    def mark_shipped(self, command: MarkShipped) -> Order:
        def event(order: Order, from_state: str) -> OrderTransitionEvent:
            return OrderShipped(
                aggregate_id=order.id,
                from_state=from_state,
                to_state=OrderState.SHIPPED,
                carrier=command.carrier,
                tracking_number=command.tracking_number,
            )

        return self._transition(command, OrderState.SHIPPED, event)

    @observed_command
    def mark_delivered(self, command: MarkDelivered) -> Order:
        def event(order: Order, from_state: str) -> OrderTransitionEvent:
            return OrderDelivered(
                aggregate_id=order.id, from_state=from_state, to_state=OrderState.DELIVERED
            )

        return self._transition(command, OrderState.DELIVERED, event)

    def _transition(
        self,
        command: OrderCommand,
        target: OrderState,
        make_event: Callable[[Order, str], OrderTransitionEvent],
    ) -> Order:
        with transaction.atomic():
            order = repositories.lock_order(command.order_id)
            if command.expected_version is not None and order.version != command.expected_version:
                raise ConcurrencyConflict(
                    f"Order {order.id} is at version {order.version}, "
                    f"not {command.expected_version}.",
                    current_version=order.version,
                )
            from_state = order.state
            save_change(
                order,
                make_event(order, from_state),
                user_id=command.actor.user_id,
                idempotency_key=command.idempotency_key,
                state=transition(from_state, target),
            )
        return order

    @staticmethod
    def _check_methods(payment_method: str, shipping_method: str) -> None:
        # Names only: the strategies live in the payments and shipping apps, which orders does not
        # import; settings list what is installed.
        if payment_method not in settings.OMS_PAYMENT_METHODS:
            raise InvalidCommand(
                f"Unknown payment method {payment_method!r}.",
                field="payment_method",
                allowed=sorted(settings.OMS_PAYMENT_METHODS),
            )
        if shipping_method not in settings.OMS_SHIPPING_METHODS:
            raise InvalidCommand(
                f"Unknown shipping method {shipping_method!r}.",
                field="shipping_method",
                allowed=sorted(settings.OMS_SHIPPING_METHODS),
            )
