"""The shipping charge of a new order, as the orders app asks for it (``OMS_SHIPPING_QUOTER``).

The same strategies quote it as the shipment's rate later, so a shipment's rate is the order's
``shipping_total``: the charge is fixed when the order is created.
"""

from __future__ import annotations

from datetime import date

from apps.shipping.strategies import Parcel, strategy_for
from shared.money import Money


def charge_for_new_order(*, method: str, units: int, subtotal: Money, on: date) -> Money:
    parcel = Parcel(item_count=units, subtotal=subtotal)
    return strategy_for(method).quote(parcel, ship_date=on).rate
