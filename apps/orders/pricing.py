"""What an order costs: its lines, the shipping charged for them, and the total.

The shipping charge is quoted once, when the order is created, and then fixed: the order carries
``subtotal`` (its lines), ``shipping_total`` and ``total`` (what the payment captures), and a
change of rates later never changes what a customer was asked to pay. Orders does not import the
shipping app: the quoter is named by ``OMS_SHIPPING_QUOTER`` and answers in the order's currency.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from shared.money import Money


class ShippingQuoter(Protocol):
    def __call__(self, *, method: str, units: int, subtotal: Money, on: date) -> Money:
        """The charge for shipping ``units`` items worth ``subtotal`` by ``method`` from ``on``."""
        ...


def shipping_charge(*, method: str, units: int, subtotal: Money, on: date) -> Money:
    """The quoted shipping charge of a new order, in its currency's minor units."""
    quoter: ShippingQuoter = import_string(settings.OMS_SHIPPING_QUOTER)
    charge = quoter(method=method, units=units, subtotal=subtotal, on=on)
    if charge.currency != subtotal.currency or charge.amount < 0:
        raise ValueError(f"the shipping quoter answered {charge} for a {subtotal.currency} order")
    return Money.of(charge.amount, charge.currency)
