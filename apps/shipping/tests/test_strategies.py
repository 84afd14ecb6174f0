"""Shipping strategies: rate and delivery estimate from the items (pure, no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.shipping.strategies import (
    ExpressShipping,
    Parcel,
    StandardShipping,
    check_configuration,
    strategy_for,
)
from shared.money import Money

MONDAY = date(2025, 3, 3)


def parcel(items: int, total: str, currency: str = "EUR") -> Parcel:
    return Parcel(item_count=items, subtotal=Money.of(total, currency))


@pytest.mark.parametrize(
    ("items", "total", "rate", "days"),
    [
        (1, "10.00", "4.90", 5),  # the base rate
        (3, "30.00", "5.90", 5),  # + 0.50 for each unit after the first
        (20, "49.99", "14.40", 5),  # 20 units are not bulky yet
        (21, "49.99", "14.90", 7),  # bulky: two more days
        (2, "50.00", "0.00", 5),  # free from an order total of 50.00
        (30, "300.00", "0.00", 7),  # free, but still bulky
    ],
)
def test_standard_rate_and_estimate(items: int, total: str, rate: str, days: int) -> None:
    quote = StandardShipping().quote(parcel(items, total), ship_date=MONDAY)
    assert (quote.carrier, quote.service_level) == ("DHL", "standard")
    assert quote.rate == Money.of(rate, "EUR")
    assert (quote.estimated_delivery - MONDAY).days == days


@pytest.mark.parametrize(
    ("items", "total", "rate", "days"),
    [
        (1, "10.00", "14.90", 1),  # the base rate, next day
        (3, "30.00", "17.90", 1),  # + 1.50 for each unit after the first
        (2, "500.00", "16.40", 1),  # never free
        (21, "210.00", "44.90", 2),  # bulky: one more day
    ],
)
def test_express_rate_and_estimate(items: int, total: str, rate: str, days: int) -> None:
    quote = ExpressShipping().quote(parcel(items, total), ship_date=MONDAY)
    assert (quote.carrier, quote.service_level) == ("UPS", "express")
    assert quote.rate == Money.of(rate, "EUR")
    assert (quote.estimated_delivery - MONDAY).days == days


@pytest.mark.parametrize("items", [1, 2, 5, 20, 21, 100])
@pytest.mark.parametrize("total", ["1.00", "49.99", "50.00", "1000.00"])
def test_express_always_costs_more_and_arrives_sooner(items: int, total: str) -> None:
    standard = StandardShipping().quote(parcel(items, total), ship_date=MONDAY)
    express = ExpressShipping().quote(parcel(items, total), ship_date=MONDAY)
    assert express.rate.amount > standard.rate.amount
    assert express.estimated_delivery < standard.estimated_delivery


def test_rates_are_rounded_to_the_currencys_minor_units() -> None:
    quote = StandardShipping().quote(parcel(1, "10", "JPY"), ship_date=MONDAY)
    assert quote.rate == Money(Decimal("5"), "JPY")  # 4.90 rounded half-up to whole yen


def test_an_empty_parcel_has_no_quote() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        StandardShipping().quote(parcel(0, "0.00"), ship_date=MONDAY)


def test_strategies_are_looked_up_by_method_name() -> None:
    check_configuration()
    assert isinstance(strategy_for("standard"), StandardShipping)
    assert isinstance(strategy_for("express"), ExpressShipping)
    with pytest.raises(ImproperlyConfigured):
        strategy_for("teleport")


def test_a_shipping_method_without_a_strategy_is_refused(settings: Any) -> None:
    settings.OMS_SHIPPING_METHODS = ["standard", "teleport"]
    with pytest.raises(ImproperlyConfigured, match="teleport"):
        check_configuration()
