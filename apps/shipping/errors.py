"""Errors of the shipping domain (mapped to problem+json like every DomainError)."""

from __future__ import annotations

from collections.abc import Iterable

from shared.exceptions import DomainError, NotFound


class ShipmentNotFound(NotFound):
    code = "shipment_not_found"
    title = "The shipment does not exist."


class InvalidShipmentTransition(DomainError):
    status = 409
    code = "invalid_shipment_transition"
    title = "The shipment cannot make this status change."

    def __init__(self, current_status: str, target_status: str, allowed: Iterable[str]) -> None:
        super().__init__(
            f"A shipment that is {current_status} cannot become {target_status}.",
            current_status=current_status,
            target_status=target_status,
            allowed_statuses=sorted(allowed),
        )


class TrackingNumberInUse(DomainError):
    status = 409
    code = "tracking_number_in_use"
    title = "The carrier's tracking number already belongs to another shipment."
