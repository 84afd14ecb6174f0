"""Shipping strategies: the rate and the delivery estimate of a parcel, per service level.

The rules (amounts in the order's currency, rounded half-up to its minor units):

=========  ==================================================  ==========================
method     rate                                                 estimated delivery
=========  ==================================================  ==========================
standard   4.90 + 0.50 per item after the first;                ship date + 5 days,
           free when the items total 50.00 or more              + 2 days above 20 items
express    14.90 + 1.50 per item after the first; never free    ship date + 1 day,
                                                                + 1 day above 20 items
=========  ==================================================  ==========================

"Items" counts units (the sum of the quantities), because that is what fills the parcel. Express
always costs more than standard for the same parcel and always arrives sooner.

Strategies are looked up by method name in ``OMS_SHIPPING_STRATEGIES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from shared.money import CURRENCY_MINOR_UNITS, Money

# Above this many units a parcel is bulky and takes longer.
BULKY_ABOVE_ITEMS = 20


@dataclass(frozen=True)
class Parcel:
    """What a strategy needs to know about the order it ships."""

    item_count: int
    # What the items are worth (the lines, without shipping): free shipping is decided on it.
    subtotal: Money


@dataclass(frozen=True)
class ShippingQuote:
    carrier: str
    service_level: str
    rate: Money
    estimated_delivery: date


class ShippingStrategy(Protocol):
    service_level: ClassVar[str]
    carrier: ClassVar[str]

    def quote(self, parcel: Parcel, *, ship_date: date) -> ShippingQuote:
        """The rate and the delivery estimate of ``parcel`` shipped on ``ship_date``."""
        ...


def in_currency(amount: Decimal, currency: str) -> Money:
    """A computed charge rounded to the currency's minor units (half-up)."""
    places = Decimal(1).scaleb(-CURRENCY_MINOR_UNITS[currency])
    return Money.of(amount.quantize(places, rounding=ROUND_HALF_UP), currency)


class TableRateShipping:
    """A base rate plus a rate per extra unit, and a fixed transit time, slower when bulky."""

    service_level: ClassVar[str]
    carrier: ClassVar[str]
    base_rate: ClassVar[Decimal]
    per_extra_item: ClassVar[Decimal]
    free_from_total: ClassVar[Decimal | None] = None
    transit_days: ClassVar[int]
    bulky_extra_days: ClassVar[int]

    def quote(self, parcel: Parcel, *, ship_date: date) -> ShippingQuote:
        if parcel.item_count < 1:
            raise ValueError("a parcel holds at least one item")
        currency = parcel.subtotal.currency
        free = self.free_from_total is not None and parcel.subtotal.amount >= self.free_from_total
        rate = (
            Decimal(0) if free else self.base_rate + self.per_extra_item * (parcel.item_count - 1)
        )
        days = self.transit_days
        if parcel.item_count > BULKY_ABOVE_ITEMS:
            days += self.bulky_extra_days
        return ShippingQuote(
            carrier=self.carrier,
            service_level=self.service_level,
            rate=in_currency(rate, currency),
            estimated_delivery=ship_date + timedelta(days=days),
        )


class StandardShipping(TableRateShipping):
    service_level = "standard"
    carrier = "DHL"
    base_rate = Decimal("4.90")
    per_extra_item = Decimal("0.50")
    free_from_total = Decimal("50.00")
    transit_days = 5
    bulky_extra_days = 2


class ExpressShipping(TableRateShipping):
    service_level = "express"
    carrier = "UPS"
    base_rate = Decimal("14.90")
    per_extra_item = Decimal("1.50")
    transit_days = 1
    bulky_extra_days = 1


def strategy_for(method: str) -> ShippingStrategy:
    """The strategy configured for ``method``."""
    path = settings.OMS_SHIPPING_STRATEGIES.get(method)
    if path is None:
        # Order creation only accepts configured methods: this is a configuration change since.
        raise ImproperlyConfigured(f"no shipping strategy is configured for {method!r}")
    strategy: ShippingStrategy = import_string(path)()
    return strategy


def check_configuration() -> None:
    """Every method order creation accepts has an importable strategy, and so has the carrier."""
    methods, strategies = settings.OMS_SHIPPING_METHODS, settings.OMS_SHIPPING_STRATEGIES
    if missing := sorted(set(methods) - set(strategies)):
        raise ImproperlyConfigured(
            f"OMS_SHIPPING_METHODS names {missing}, which OMS_SHIPPING_STRATEGIES does not "
            "configure"
        )
    for path in [*strategies.values(), settings.OMS_CARRIER_CLIENT]:
        try:
            import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"cannot import {path!r}: {exc}") from exc
