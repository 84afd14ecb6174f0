from __future__ import annotations

from decimal import Decimal

import pytest

from shared.exceptions import InvalidAmount, UnsupportedCurrency
from shared.money import Money, format_amount


def test_amounts_are_quantized_to_the_currency() -> None:
    assert Money.of("12.5", "EUR").amount == Decimal("12.50")
    assert Money.of("1000", "JPY").amount == Decimal("1000")
    assert Money.of("1.234", "KWD").amount == Decimal("1.234")


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.001", "EUR"), ("1.5", "JPY"), ("0.0001", "KWD")]
)
def test_more_decimals_than_the_currency_has_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.of(amount, currency)


@pytest.mark.parametrize("bad", [0.1, float("nan"), "NaN", "Infinity", "abc", None, True])
def test_floats_and_non_numbers_are_refused(bad: object) -> None:
    with pytest.raises(InvalidAmount):
        Money.of(bad, "EUR")


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(UnsupportedCurrency):
        Money.of("1", "XXX")


def test_arithmetic_keeps_currency_and_exactness() -> None:
    total = Money.of("0.10", "USD").times(3) + Money.of("0.20", "USD")
    assert total == Money.of("0.50", "USD")
    with pytest.raises(InvalidAmount):
        Money.of("1", "USD") + Money.of("1", "EUR")


def test_format_amount_uses_the_minor_units() -> None:
    assert format_amount(Decimal("5"), "EUR") == "5.00"
    assert format_amount(Decimal("5.0000"), "JPY") == "5"
