"""The shipping commands in an order's ``allowed_actions`` (``ship``, ``deliver``), decided by
the lifecycle checks ``ShippingService`` makes (registered in ``ShippingConfig.ready``)."""

from __future__ import annotations

from apps.orders import lifecycle
from apps.orders.actions import ActionRule, OrderAtHand


def shippable(order: OrderAtHand) -> bool:
    return lifecycle.can_be_shipped_in(order.state)


def deliverable(order: OrderAtHand) -> bool:
    return lifecycle.can_be_delivered_in(order.state)


SHIP = ActionRule(name="ship", staff_only=True, possible=shippable)
DELIVER = ActionRule(name="deliver", staff_only=True, possible=deliverable)
